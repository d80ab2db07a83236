"""Fixtures for tests that talk to the fake Classify server over loopback."""

from collections.abc import AsyncIterator

import aiohttp
import pytest

from aio_classify.testing import FakeClassifyServer

API_KEY = "test-key"


@pytest.fixture
async def server() -> AsyncIterator[FakeClassifyServer]:
    async with FakeClassifyServer(api_key=API_KEY, seed=1) as fake:
        yield fake


@pytest.fixture
async def http(server: FakeClassifyServer) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain session that sends the right bearer token to the fake."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with aiohttp.ClientSession(server.url, headers=headers) as session:
        yield session
