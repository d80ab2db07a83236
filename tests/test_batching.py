"""Batch lookups (``get_jobs``, ``iter_jobs``) against the fake server over loopback."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from urllib.parse import quote

import pytest

from aio_classify import ClassifyClient, PermissionDeniedError
from aio_classify._jobs.batching import MAX_URL_BYTES
from aio_classify.testing import FakeClassifyServer, RecordedRequest

from helpers import LIST
from helpers import list_calls as lookups


def ids_of(request: RecordedRequest) -> list[str]:
    return [value for key, value in request.query if key == "job_ids"]


def no_other_tasks() -> bool:
    """No client task is left (the fake server's own handler tasks share this loop)."""
    client_tasks = [
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task()
        and getattr(task.get_coro(), "__qualname__", "").startswith("BatchLookup.")
    ]
    return client_tasks == []


async def test_2500_ids_cost_25_requests_with_at_most_4_in_flight(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(2500)
    random.Random(3).shuffle(ids)
    server.latency = 0.01  # long enough for the batches to overlap
    jobs = await client.get_jobs(ids, batch_size=100, concurrency=4)
    assert len(lookups(server)) == len(server.requests) == 25
    assert server.max_in_flight == 4
    assert list(jobs) == ids  # input order, not the server's order
    assert all(job.id == job_id for job_id, job in jobs.items())
    sent = [job_id for request in lookups(server) for job_id in ids_of(request)]
    assert sorted(sent) == sorted(ids)  # each id asked about exactly once
    assert all(("page_size", "100") in r.query for r in lookups(server))


async def test_unknown_ids_are_absent_and_duplicates_looked_up_once(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    known = server.seed_jobs(150)
    wanted = ["nope-1", known[5], known[0], "nope-2", known[5], known[149], known[0]]
    wanted += known[10:140]
    jobs = await client.get_jobs(wanted, batch_size=50, concurrency=2)
    expected = list(dict.fromkeys(j for j in wanted if not j.startswith("nope")))
    assert list(jobs) == expected
    sent = [job_id for request in lookups(server) for job_id in ids_of(request)]
    assert sorted(sent) == sorted(set(wanted))
    assert len(lookups(server)) == math.ceil(len(set(wanted)) / 50)


async def test_empty_input_makes_no_request(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    assert await client.get_jobs([]) == {}
    assert [job async for job in client.iter_jobs(iter(()))] == []
    assert server.requests == []


async def test_async_iterable_input_and_scope(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(30, project_id="aaaaaaaa-0000-4000-8000-00000000000a")

    async def source() -> AsyncIterator[str]:
        for job_id in ids:
            await asyncio.sleep(0)
            yield job_id

    jobs = await client.get_jobs(
        source(), batch_size=7, project_id="aaaaaaaa-0000-4000-8000-00000000000a"
    )
    assert list(jobs) == ids
    assert len(lookups(server)) == 5
    assert all(
        ("project_id", "aaaaaaaa-0000-4000-8000-00000000000a") in r.query for r in lookups(server)
    )
    assert await client.get_jobs(ids, project_id="bbbbbbbb-0000-4000-8000-00000000000b") == {}


async def test_batches_are_cut_to_keep_each_url_under_8_kib(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    # 100 ids of ~300 characters, most of them percent-encoded three bytes each.
    long_ids = [f"{i:03d}/é&?=#" * 30 for i in range(100)]
    for job_id in long_ids:
        server.add_job(id=job_id)
    jobs = await client.get_jobs(long_ids, batch_size=100)
    assert list(jobs) == long_ids
    assert len(lookups(server)) > 1
    for request in lookups(server):
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in request.query)
        assert len(f"{server.url}{LIST}?{query}") <= MAX_URL_BYTES


async def test_iter_jobs_reads_input_lazily_and_closes_cleanly(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    known = server.seed_jobs(500)
    read = 0

    def million_ids() -> Iterator[str]:
        nonlocal read
        for i in range(1_000_000):
            read += 1
            yield known[i % len(known)] if i < len(known) else f"unknown-{i}"

    seen = []
    async with aclosing(client.iter_jobs(million_ids(), concurrency=2, batch_size=50)) as jobs:
        async for job in jobs:
            seen.append(job.id)
            if len(seen) == 120:
                break
    # At most the batches under way plus the one being filled were read, never the million.
    assert read <= 4 * 50 + 1
    assert len(set(seen)) == 120
    assert no_other_tasks()


async def test_consumer_cancelled_mid_iteration_leaves_nothing_running(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(1000)
    server.latency = 0.05

    async def consume() -> None:
        async with aclosing(client.iter_jobs(ids, concurrency=3, batch_size=10)) as jobs:
            async for _ in jobs:
                pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.12)
    assert not no_other_tasks()  # batches are under way
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert no_other_tasks()
    assert len(lookups(server)) < 100


async def test_failing_batch_cancels_the_others_and_raises(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(2000)
    await client.get_jobs(ids[:40], concurrency=4, batch_size=10)  # past the slow start
    server.reset_stats()
    server.latency = 0.05
    # One lookup is refused (403 is never retried) while three others are in flight.
    server.fail_next(403, path=LIST)
    with pytest.raises(PermissionDeniedError):
        await client.get_jobs(ids, concurrency=4, batch_size=10)
    assert no_other_tasks()
    assert len(lookups(server)) == 4  # the other 196 batches were never sent
    await asyncio.sleep(0.1)  # the server notices the cancelled requests' closed connections
    assert server.in_flight == 0


async def test_retried_batches_recover_within_the_concurrency_limit(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(300)
    server.latency = 0.01
    server.fail_next(503, count=2, path=LIST)
    server.drop_next(2, path=LIST)
    server.fail_next(429, path=LIST, headers={"Retry-After": "0.02"})
    jobs = await client.get_jobs(ids, concurrency=2, batch_size=20)
    assert list(jobs) == ids
    assert len(lookups(server)) == 15 + 5
    assert server.max_in_flight <= 2  # retries' attempts count against the limit too


async def test_bad_id_mid_stream_raises_before_its_batch_is_sent(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(100)
    server.latency = 0.02

    def source() -> Iterator[object]:
        yield from ids[:60]
        yield 42
        yield from ids[60:]

    with pytest.raises(TypeError, match="job_ids item must be a str, not int"):
        await client.get_jobs(source(), batch_size=20)  # type: ignore[arg-type]
    sent = {job_id for request in lookups(server) for job_id in ids_of(request)}
    assert sent <= set(ids[:60])
    assert no_other_tasks()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"concurrency": 0}, ValueError, "concurrency must be at least 1"),
        ({"batch_size": 0}, ValueError, "batch_size must be between 1 and 100"),
        ({"batch_size": 101}, ValueError, "batch_size must be between 1 and 100"),
        ({"concurrency": 2.0}, TypeError, "concurrency must be an int"),
    ],
)
async def test_bad_options_raise_before_any_request(
    server: FakeClassifyServer,
    client: ClassifyClient,
    kwargs: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    ids = server.seed_jobs(3)
    with pytest.raises(error, match=message):
        await client.get_jobs(ids, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        client.iter_jobs(ids, **kwargs)  # type: ignore[arg-type]
    assert server.requests == []


async def test_bad_ids_in_memory_raise_before_any_request(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(250)
    with pytest.raises(TypeError, match="job_ids item must be a str, not NoneType"):
        await client.get_jobs([*ids, None])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="job_ids item must not be empty"):
        client.iter_jobs([*ids, ""])
    with pytest.raises(TypeError, match="not a single str"):
        await client.get_jobs(ids[0])
    with pytest.raises(TypeError, match="iterable"):
        await client.get_jobs(12)  # type: ignore[arg-type]
    assert server.requests == []


async def test_ids_in_memory_are_read_as_they_were_checked(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    """The ids of a list are checked when ``iter_jobs`` is called and read from a copy: an id
    put in the caller's list afterwards is never looked up, nor read unchecked."""
    ids = server.seed_jobs(3)
    given: list[object] = list(ids)
    jobs = client.iter_jobs(given)  # type: ignore[arg-type]
    given.extend([42, "cls-added-later"])
    async with aclosing(jobs):
        found = [job.id async for job in jobs]
    assert sorted(found) == sorted(ids)
    assert [ids_of(request) for request in lookups(server)] == [ids]
