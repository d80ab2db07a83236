"""Polling (``wait_for_job``, ``wait_for_jobs``, ``watch_jobs``) against the fake server."""

from __future__ import annotations

import asyncio
import math
import time
from contextlib import aclosing

import pytest

from aio_classify import (
    ClassifyClient,
    JobFailedError,
    JobStatus,
    NotFoundError,
    PollingTimeoutError,
)
from aio_classify.polling import PollOptions
from aio_classify.testing import FakeClassifyServer, RecordedRequest


def rounds(requests: list[RecordedRequest]) -> list[list[list[str]]]:
    """Lookups grouped into polling rounds: a round ends when an id is asked about again."""
    grouped: list[list[list[str]]] = []
    asked: set[str] = set()
    for request in sorted(requests, key=lambda r: r.time):
        ids = [value for key, value in request.query if key == "job_ids"]
        if not grouped or asked & set(ids):
            grouped.append([])
            asked = set()
        grouped[-1].append(ids)
        asked |= set(ids)
    return grouped


def test_interval_grows_from_poll_interval_to_max_interval() -> None:
    next_interval = PollOptions(poll_interval=1.0, max_interval=3.0, timeout=10.0).intervals()
    assert [next_interval() for _ in range(6)] == [1.0, 1.5, 2.25, 3.0, 3.0, 3.0]


async def test_1000_jobs_over_several_rounds_cost_one_request_per_100_pending(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(1000, statuses="PENDING")
    server.finish_later(ids, within=0.8, seed=2, fail_ratio=0.1)
    done = await client.wait_for_jobs(ids, poll_interval=0.1, max_interval=0.2, timeout=10)
    assert list(done) == ids
    assert all(job.is_terminal for job in done.values())
    assert {job.status for job in done.values()} == {JobStatus.COMPLETED, JobStatus.FAILED}
    by_round = rounds(server.requests)
    assert len(by_round) >= 3
    assert sorted(i for batch in by_round[0] for i in batch) == sorted(ids)
    previous: set[str] = set(ids)
    for lookups in by_round:
        pending = [i for batch in lookups for i in batch]
        assert len(lookups) == math.ceil(len(pending) / 100)
        assert set(pending) <= previous  # only jobs not yet seen terminal are asked about
        previous = set(pending)
    assert len(server.requests) == sum(math.ceil(sum(map(len, r)) / 100) for r in by_round)


async def test_watch_jobs_yields_each_job_once_as_it_finishes(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(300, statuses="RUNNING")
    finished_already = server.seed_jobs(20, statuses="COMPLETED")
    server.finish_later(ids, within=0.5, seed=5)
    seen = []
    when: dict[str, float] = {}
    started = time.monotonic()
    async with aclosing(
        client.watch_jobs([*ids, *finished_already, *ids[:10]], poll_interval=0.3, max_interval=0.3)
    ) as jobs:
        async for job in jobs:
            assert job.is_terminal
            seen.append(job.id)
            when[job.id] = time.monotonic() - started
    assert sorted(seen) == sorted(ids + finished_already)
    # The first round is made at once, not after poll_interval.
    assert max(when[job_id] for job_id in finished_already) < 0.25


async def test_first_check_is_made_at_once(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    (done_id,) = server.seed_jobs(1, statuses="COMPLETED")
    started = time.monotonic()
    job = await client.wait_for_job(done_id, poll_interval=30, max_interval=30)
    jobs = await client.wait_for_jobs([done_id], poll_interval=30, max_interval=30)
    assert time.monotonic() - started < 1
    assert job.status == JobStatus.COMPLETED
    assert jobs == {done_id: job}
    assert len(server.requests) == 2


async def test_cancelled_job_ends_a_wait_at_once(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    job_id = server.add_job(status="RUNNING")["id"]
    loop = asyncio.get_running_loop()
    loop.call_later(0.1, server.set_status, job_id, "CANCELLED")
    started = time.monotonic()
    job = await client.wait_for_job(
        job_id, poll_interval=0.05, max_interval=0.05, raise_on_failure=False
    )
    assert job.status == JobStatus.CANCELLED
    assert time.monotonic() - started < 0.5
    with pytest.raises(JobFailedError) as failed:
        await client.wait_for_job(job_id)
    assert failed.value.job.status == JobStatus.CANCELLED
    done = await client.wait_for_jobs([job_id], timeout=5)
    assert done[job_id].status == JobStatus.CANCELLED


async def test_failed_job_raises_job_failed_error_with_the_record(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    job_id = server.add_job(status="PENDING")["id"]
    server.fail(job_id, message="bad scan")
    with pytest.raises(JobFailedError, match="bad scan") as failed:
        await client.wait_for_job(job_id)
    assert failed.value.job.id == job_id
    job = await client.wait_for_job(job_id, raise_on_failure=False)
    assert job.status == JobStatus.FAILED


async def test_timeout_carries_finished_and_pending(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    done = server.seed_jobs(3, statuses="COMPLETED")
    stuck = server.seed_jobs(2, statuses="PENDING")
    with pytest.raises(PollingTimeoutError) as timed_out:
        await client.wait_for_jobs([*done, *stuck], poll_interval=0.05, timeout=0.3)
    assert isinstance(timed_out.value, TimeoutError)
    assert set(timed_out.value.finished) == set(done)
    assert sorted(timed_out.value.pending) == sorted(stuck)
    with pytest.raises(PollingTimeoutError) as one:
        await client.wait_for_job(stuck[0], poll_interval=0.05, timeout=0.2)
    assert one.value.pending == [stuck[0]]
    assert one.value.finished == {}


async def test_timeout_cuts_a_slow_round(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    stuck = server.seed_jobs(2, statuses="PENDING")
    server.latency = 2.0
    started = time.monotonic()
    with pytest.raises(PollingTimeoutError):
        await client.wait_for_jobs(stuck, timeout=0.2)
    assert time.monotonic() - started < 1.0


async def test_unknown_ids_raise_not_found(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    known = server.seed_jobs(2, statuses="COMPLETED")
    with pytest.raises(NotFoundError):
        await client.wait_for_job("cls-unknown")
    with pytest.raises(NotFoundError, match="cls-unknown") as missing:
        await client.wait_for_jobs([*known, "cls-unknown"], timeout=5)
    assert missing.value.status_code == 404
    yielded: list[str] = []

    async def watch() -> None:
        async for job in client.watch_jobs([*known, "cls-unknown"]):
            yielded.append(job.id)

    with pytest.raises(NotFoundError):
        await watch()
    assert sorted(yielded) == sorted(known)  # what the round found is yielded first


async def test_breaking_out_of_watch_jobs_leaves_nothing_running(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(500, statuses="PENDING")
    server.complete(ids[0])
    server.latency = 0.02
    async with aclosing(client.watch_jobs(ids, batch_size=10, concurrency=2)) as jobs:
        async for job in jobs:
            assert job.id == ids[0]
            break
    leftover = [
        t
        for t in asyncio.all_tasks()
        if getattr(t.get_coro(), "__qualname__", "").startswith("BatchLookup.")
    ]
    assert leftover == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"poll_interval": 0}, "poll_interval must be a positive number"),
        ({"poll_interval": -1.0}, "poll_interval must be a positive number"),
        ({"poll_interval": 2.0, "max_interval": 1.0}, r"max_interval \(1.0\) must not be below"),
        ({"timeout": 0}, "timeout must be a positive number"),
    ],
)
async def test_bad_polling_options_raise_before_any_request(
    server: FakeClassifyServer, client: ClassifyClient, kwargs: dict[str, float], message: str
) -> None:
    ids = server.seed_jobs(2)
    with pytest.raises(ValueError, match=message):
        await client.wait_for_job(ids[0], **kwargs)
    with pytest.raises(ValueError, match=message):
        await client.wait_for_jobs(ids, **kwargs)
    with pytest.raises(ValueError, match=message):
        client.watch_jobs(ids, **kwargs)
    with pytest.raises(ValueError, match="concurrency"):
        await client.wait_for_jobs(ids, concurrency=0)
    assert server.requests == []
