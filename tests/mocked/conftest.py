"""Fixtures for the aioresponses-scripted tests: the mock, and a client pointed at a base URL that
is never resolved, with retries of a millisecond."""

from collections.abc import AsyncIterator, Iterator

import pytest
from aioresponses import aioresponses

from aio_classify import ClassifyClient

from helpers import scripted_client


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as mock:
        yield mock


@pytest.fixture
async def client() -> AsyncIterator[ClassifyClient]:
    async with scripted_client() as client:
        yield client
