"""Coalescing (``aio_classify._jobs.coalesce``) against the fake server: gathered ``get_job``
calls and independent ``wait_for_job`` calls share batched lookups, each caller still getting
exactly what a lone call gives; a lone call is one ``GET``; nothing is left running. Then
``cancel_on_timeout`` on every wait, checked on the fake's own records."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest

from aio_classify import (
    ClassifyClient,
    JobStatus,
    NotFoundError,
    PermissionDeniedError,
    PollingTimeoutError,
)
from aio_classify.testing import FakeClassifyServer, RecordedRequest

from helpers import API_KEY, FAST_RETRIES

LIST = "GET /api/v2/classify"
ONE = "GET /api/v2/classify/{job_id}"


def routes(server: FakeClassifyServer) -> list[str]:
    return [request.route for request in server.requests]


def asked_ids(request: RecordedRequest) -> list[str]:
    return [value for key, value in request.query if key == "job_ids"]


async def quiet(client: ClassifyClient) -> bool:
    """Soon no look waiting or in flight, no timer, and no task of the coalescer's (a request
    task ends a loop turn or two after its callers have their answers)."""
    for _ in range(100):
        idle = client._gets.busy() == 0 and client._looks.busy() == 0
        tasks = asyncio.all_tasks()
        if idle and not any("Coalescer" in t.get_coro().__qualname__ for t in tasks):  # type: ignore[union-attr]
            return True
        await asyncio.sleep(0.01)
    return False


@pytest.fixture
async def slow_server() -> AsyncIterator[FakeClassifyServer]:
    """Each request takes 50 ms: callers arriving meanwhile find one in flight."""
    async with FakeClassifyServer(api_key=API_KEY, seed=1, latency=0.05) as fake:
        yield fake


def client_for(server: FakeClassifyServer, **options: Any) -> ClassifyClient:
    return ClassifyClient(API_KEY, base_url=server.url, retry_policy=FAST_RETRIES, **options)


# -- get_job ---------------------------------------------------------------------------------


async def test_a_lone_get_job_is_one_get(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    (job_id,) = server.seed_jobs(1)
    job = await client.get_job(job_id)
    assert job.id == job_id
    assert routes(server) == [ONE]
    assert await quiet(client)


async def test_200_gathered_get_job_share_a_few_requests_each_correct(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(200)
    jobs = await asyncio.gather(*(client.get_job(job_id) for job_id in ids))
    assert [job.id for job in jobs] == ids
    assert [job.status for job in jobs] == [server.job(job_id)["status"] for job_id in ids]
    assert routes(server)[0] == ONE  # the first caller went out at once
    assert routes(server)[1:] == [LIST, LIST]  # 199 more: 100 + 99 ids
    assert all(len(asked_ids(request)) <= 100 for request in server.requests)
    assert await quiet(client)


async def test_coalesce_false_makes_one_request_per_call(server: FakeClassifyServer) -> None:
    ids = server.seed_jobs(20)
    async with client_for(server, coalesce=False) as client:
        jobs = await asyncio.gather(*(client.get_job(job_id) for job_id in ids))
    assert [job.id for job in jobs] == ids
    assert routes(server) == [ONE] * 20


async def test_get_job_with_expand_is_never_batched(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(5)
    await asyncio.gather(*(client.get_job(job_id, expand=["usage"]) for job_id in ids))
    assert routes(server) == [ONE] * 5


def without_request_id(error: BaseException) -> str:
    return re.sub(r" \(request id [^)]*\)$", "", str(error))


async def test_unknown_ids_in_a_batch_raise_what_a_lone_call_raises(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    known = server.seed_jobs(3)
    with pytest.raises(NotFoundError) as lone:
        await client.get_job("cls-unknown-0")
    server.reset_stats()
    asked = ["cls-unknown-1", known[0], "cls-unknown-0", known[1], known[2]]
    results = await asyncio.gather(
        *(client.get_job(job_id) for job_id in asked), return_exceptions=True
    )
    assert LIST in routes(server)
    for job_id, result in zip(asked, results, strict=True):
        if job_id.startswith("cls-unknown"):
            assert isinstance(result, NotFoundError)
            assert result.status_code == 404
            # The same message, but for the request id: a 404 of its own carries one, a
            # batch's answer (the jobs it found) none for an id it left out.
            assert without_request_id(result) == without_request_id(lone.value).replace(
                "cls-unknown-0", job_id
            )
            assert (result.request_id is None) == ("request id" not in str(result))
        else:
            assert not isinstance(result, BaseException)
            assert result.id == job_id


async def test_a_failed_batch_raises_its_error_in_every_caller(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(30)
    server.fail_next(403, method="GET", path="/api/v2/classify")
    results = await asyncio.gather(
        *(client.get_job(job_id) for job_id in ids), return_exceptions=True
    )
    assert results[0].id == ids[0]  # type: ignore[union-attr]  (the lone GET, at once)
    assert all(isinstance(result, PermissionDeniedError) for result in results[1:])
    assert await quiet(client)


async def test_cancelling_one_caller_disturbs_no_other(slow_server: FakeClassifyServer) -> None:
    ids = slow_server.seed_jobs(10)
    async with client_for(slow_server) as client:
        tasks = [asyncio.create_task(client.get_job(job_id)) for job_id in ids]
        await asyncio.sleep(0.01)  # the first GET and the batch of the others are in flight
        tasks[0].cancel()
        tasks[5].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[0], asyncio.CancelledError)
        assert isinstance(results[5], asyncio.CancelledError)
        kept = [result for index, result in enumerate(results) if index not in {0, 5}]
        assert [job.id for job in kept] == [ids[i] for i in range(10) if i not in {0, 5}]  # type: ignore[union-attr]
        assert await quiet(client)


async def test_a_caller_cancelled_before_its_batch_leaves_is_not_asked_about(
    slow_server: FakeClassifyServer,
) -> None:
    ids = slow_server.seed_jobs(4)
    async with client_for(slow_server) as client:
        first = asyncio.create_task(client.get_job(ids[0]))
        await asyncio.sleep(0)  # the first GET is in flight: the others queue
        others = [asyncio.create_task(client.get_job(job_id)) for job_id in ids[1:]]
        others[0].cancel()  # before the next tick sends the queue
        await asyncio.gather(first, *others, return_exceptions=True)
        assert await quiet(client)
    batches = [asked_ids(r) for r in slow_server.requests if r.route == LIST]
    assert batches == [ids[2:]]


async def test_callers_whose_every_waiter_left_cancel_their_request(
    slow_server: FakeClassifyServer,
) -> None:
    ids = slow_server.seed_jobs(3)
    async with client_for(slow_server) as client:
        tasks = [asyncio.create_task(client.get_job(job_id)) for job_id in ids]
        await asyncio.sleep(0.01)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert await quiet(client)


def test_each_event_loop_has_its_own_queue_even_side_by_side() -> None:
    async def gathered(client: ClassifyClient, server_url: str, ids: list[str]) -> list[str]:
        return [job.id for job in await asyncio.gather(*(client.get_job(i) for i in ids))]

    async def serve_and_check() -> None:
        async with FakeClassifyServer(api_key=API_KEY, seed=1, latency=0.02) as server:
            ids = server.seed_jobs(60)
            client = client_for(server)
            results: dict[int, list[str]] = {}

            def in_thread(part: int) -> None:
                results[part] = asyncio.run(gathered(client, server.url, ids[part::2]))

            threads = [threading.Thread(target=in_thread, args=(part,)) for part in (0, 1)]
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                await asyncio.sleep(0.01)
            assert results == {0: ids[0::2], 1: ids[1::2]}
            assert await gathered(client, server.url, ids) == ids  # and this loop after them
            assert not client._gets._by_loop  # no loop's state outlives its looks
            await client.close()

    asyncio.run(serve_and_check())


async def test_coalesce_must_be_a_bool(server: FakeClassifyServer) -> None:
    with pytest.raises(TypeError, match="coalesce"):
        client_for(server, coalesce="yes")


# -- wait_for_job ------------------------------------------------------------------------------


async def test_a_lone_wait_looks_with_get(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    (job_id,) = server.seed_jobs(1, statuses="PENDING")
    server.finish_later([job_id], within=0.3, seed=1)
    job = await client.wait_for_job(job_id, poll_interval=0.05, max_interval=0.1, timeout=10)
    assert job.is_terminal
    assert set(routes(server)) == {ONE}
    assert await quiet(client)


async def test_many_waits_share_batched_rounds_each_with_its_own_timeout(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(150, statuses="PENDING")
    finishing, stuck = ids[:100], ids[100:]
    server.finish_later(finishing, within=0.5, seed=3)

    async def wait(job_id: str) -> Any:
        timeout = 0.6 if job_id in stuck else 30.0
        return await client.wait_for_job(
            job_id, poll_interval=0.1, max_interval=0.2, timeout=timeout, raise_on_failure=False
        )

    results = await asyncio.gather(*(wait(job_id) for job_id in ids), return_exceptions=True)
    for job_id, result in zip(ids, results, strict=True):
        if job_id in stuck:
            assert isinstance(result, PollingTimeoutError)
            assert result.pending == [job_id]
        else:
            assert result.id == job_id
            assert result.is_terminal
    # One wait alone would look at least 4 times; 150 lone waits 600 requests or more.
    assert len(server.requests) < 60
    assert max(len(asked_ids(r)) for r in server.requests) == 100
    assert await quiet(client)


async def test_cancelling_one_wait_disturbs_no_other(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(20, statuses="PENDING")
    waits = [
        asyncio.create_task(client.wait_for_job(job_id, poll_interval=0.05, max_interval=0.05))
        for job_id in ids
    ]
    while len(server.requests) < 4:  # a few rounds made
        await asyncio.sleep(0.01)
    waits[3].cancel()
    server.finish_all()
    results = await asyncio.gather(*waits, return_exceptions=True)
    assert isinstance(results[3], asyncio.CancelledError)
    assert all(result.id == ids[i] for i, result in enumerate(results) if i != 3)  # type: ignore[union-attr]
    assert await quiet(client)


async def test_when_every_wait_is_cancelled_nothing_keeps_running(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(30, statuses="PENDING")
    waits = [asyncio.create_task(client.wait_for_job(i, poll_interval=0.05)) for i in ids]
    while len(server.requests) < 3:
        await asyncio.sleep(0.01)
    for wait in waits:
        wait.cancel()
    await asyncio.gather(*waits, return_exceptions=True)
    assert await quiet(client)
    count = len(server.requests)
    await asyncio.sleep(0.2)
    assert len(server.requests) == count


async def test_waits_without_coalescing_each_look_on_their_own(
    server: FakeClassifyServer,
) -> None:
    ids = server.seed_jobs(10, statuses="COMPLETED")
    async with client_for(server, coalesce=False) as client:
        await asyncio.gather(*(client.wait_for_job(job_id) for job_id in ids))
    assert routes(server) == [ONE] * 10


# -- cancel_on_timeout -------------------------------------------------------------------------


async def test_wait_for_job_cancels_a_stuck_job_at_its_timeout(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    (job_id,) = server.seed_jobs(1, statuses="PENDING")
    with pytest.raises(PollingTimeoutError) as timed_out:
        await client.wait_for_job(job_id, poll_interval=0.05, timeout=0.2, cancel_on_timeout=True)
    assert timed_out.value.pending == [job_id]
    assert server.job(job_id)["status"] == JobStatus.CANCELLED  # type: ignore[index]


async def test_without_cancel_on_timeout_a_stuck_job_keeps_running(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    (job_id,) = server.seed_jobs(1, statuses="PENDING")
    with pytest.raises(PollingTimeoutError):
        await client.wait_for_job(job_id, poll_interval=0.05, timeout=0.2)
    assert server.job(job_id)["status"] == JobStatus.PENDING  # type: ignore[index]


async def test_wait_for_jobs_and_watch_jobs_cancel_only_the_stuck_jobs(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    done = server.seed_jobs(2, statuses="COMPLETED")
    stuck = server.seed_jobs(2, statuses="PENDING")
    with pytest.raises(PollingTimeoutError) as timed_out:
        await client.wait_for_jobs(
            [*done, *stuck], poll_interval=0.05, timeout=0.2, cancel_on_timeout=True
        )
    assert sorted(timed_out.value.pending) == sorted(stuck)
    assert [server.job(i)["status"] for i in [*done, *stuck]] == [  # type: ignore[index]
        "COMPLETED",
        "COMPLETED",
        "CANCELLED",
        "CANCELLED",
    ]
    more = server.seed_jobs(1, statuses="RUNNING")
    watch = client.watch_jobs(more, poll_interval=0.05, timeout=0.2, cancel_on_timeout=True)

    async def watch_to_the_end() -> None:
        async with aclosing(watch) as jobs:
            async for _ in jobs:
                pass

    with pytest.raises(PollingTimeoutError):
        await watch_to_the_end()
    assert server.job(more[0])["status"] == "CANCELLED"  # type: ignore[index]


async def test_run_cancels_its_job_at_the_timeout(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    config = {"rules": [{"type": "invoice", "description": "An invoice with a total due."}]}
    with pytest.raises(PollingTimeoutError) as timed_out:
        await client.run(
            "dfl-1.pdf", config, poll_interval=0.05, timeout=0.2, cancel_on_timeout=True
        )
    (job_id,) = timed_out.value.pending
    assert server.job(job_id)["status"] == "CANCELLED"  # type: ignore[index]


async def test_a_failed_cancel_is_logged_never_raised_over_the_timeout(
    server: FakeClassifyServer, client: ClassifyClient, caplog: pytest.LogCaptureFixture
) -> None:
    (job_id,) = server.seed_jobs(1, statuses="PENDING")
    server.fail_next(403, method="POST")
    with pytest.raises(PollingTimeoutError):
        await client.wait_for_job(job_id, poll_interval=0.05, timeout=0.2, cancel_on_timeout=True)
    assert server.job(job_id)["status"] == "PENDING"  # type: ignore[index]
    (record,) = [r for r in caplog.records if "could not cancel" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert job_id in record.getMessage()
