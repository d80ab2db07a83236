"""Fixtures for tests that talk to the fake Classify server over loopback."""

from collections.abc import AsyncIterator

import aiohttp
import pytest

from aio_classify import ClassifyClient, RetryPolicy
from aio_classify.testing import FakeClassifyServer

API_KEY = "test-key"
#: Retries as the client does them, but with backoffs of milliseconds, so tests stay fast.
FAST_RETRIES = RetryPolicy(initial_backoff=0.01, max_backoff=0.05, jitter=0.0)


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


@pytest.fixture
async def client(server: FakeClassifyServer) -> AsyncIterator[ClassifyClient]:
    """Our client, pointed at the fake, with fast retries."""
    async with ClassifyClient(API_KEY, base_url=server.url, retry_policy=FAST_RETRIES) as client:
        yield client
