"""One client, many event loops: ``asyncio.run`` after ``asyncio.run``, a loop closed by hand, a
forked child; and a caller's session used from the wrong loop. The fake server runs in its own
process, so each test's event loops are the client's only ones (and ``fork`` sees no threads)."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator

import aiohttp
import pytest

from aio_classify import ClassifyClient, ClassifyError

from helpers import FAST_RETRIES


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "aio_classify.testing", "--port", "0", "--api-key", "test-key"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    process.stdout.readline()  # the key
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


def make_client(url: str) -> ClassifyClient:
    return ClassifyClient("test-key", base_url=url, retry_policy=FAST_RETRIES)


async def count_jobs(client: ClassifyClient) -> int:
    page = await client.list_jobs().first_page()
    return len(page.items)


def test_one_client_serves_one_asyncio_run_after_another(fake_url: str) -> None:
    client = make_client(fake_url)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            assert asyncio.run(count_jobs(client)) == 0
        asyncio.run(client.close())
        gc.collect()
    assert client.closed


def test_a_loop_closed_by_hand_leaves_nothing_unclosed(fake_url: str) -> None:
    """No ``shutdown_asyncgens`` here: the session's loop is gone with its connection open."""
    client = make_client(fake_url)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loop = asyncio.new_event_loop()
        assert loop.run_until_complete(count_jobs(client)) == 0
        loop.close()
        assert asyncio.run(count_jobs(client)) == 0
        asyncio.run(client.close())
        gc.collect()


def test_sessions_of_finished_loops_are_not_kept(fake_url: str) -> None:
    client = make_client(fake_url)
    for _ in range(5):
        asyncio.run(count_jobs(client))
    sessions = client._transport._sessions._by_loop
    asyncio.run(count_jobs(client))
    assert len(sessions) == 1  # only the last loop's, already closed with it
    asyncio.run(client.close())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_child_uses_the_client_and_the_parent_goes_on(fake_url: str) -> None:
    client = make_client(fake_url)
    loop = asyncio.new_event_loop()  # left open: the parent keeps using it after the fork
    assert loop.run_until_complete(count_jobs(client)) == 0
    pid = os.fork()
    if pid == 0:  # the child: the parent's open session must be left alone, a new one made
        code = 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                if asyncio.run(count_jobs(client)) == 0:
                    asyncio.run(client.close())
                    gc.collect()
                    code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert loop.run_until_complete(count_jobs(client)) == 0  # its connection still works
    loop.run_until_complete(client.close())
    loop.close()


def test_a_callers_session_from_another_loop_is_a_clear_error(fake_url: str) -> None:
    async def make_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    other = asyncio.new_event_loop()
    session = other.run_until_complete(make_session())
    try:
        client = ClassifyClient("test-key", base_url=fake_url, session=session)
        with pytest.raises(ClassifyError, match="another event loop"):
            asyncio.run(count_jobs(client))
        asyncio.run(client.close())
        assert not session.closed  # the caller's, never closed by the client
    finally:
        other.run_until_complete(session.close())
        other.close()


async def test_a_callers_session_in_its_own_loop_works(fake_url: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        ClassifyClient("test-key", base_url=fake_url, session=session) as client,
    ):
        assert await count_jobs(client) == 0
    assert session.closed  # closed by its own ``async with``, not by the client


def test_rate_limiters_and_batch_limits_survive_successive_loops(fake_url: str) -> None:
    """The client's per-kind limiters are shared across calls: they must not bind to the first
    loop that waited on them."""
    client = ClassifyClient(
        "test-key", base_url=fake_url, retry_policy=FAST_RETRIES, rate_limit=200
    )

    async def burst() -> int:
        counts = await asyncio.gather(*(count_jobs(client) for _ in range(5)))
        found = await client.get_jobs(["a", "b", "c"], concurrency=2, batch_size=1)
        return sum(counts) + len(found)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            assert asyncio.run(burst()) == 0
        asyncio.run(client.close())
        gc.collect()
