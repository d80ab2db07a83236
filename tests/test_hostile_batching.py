"""``iter_jobs`` over an input that stalls: batches already answered are handed over at once,
and closing or failing while the input is stalled leaves nothing running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest

from aio_classify import ClassifyClient
from aio_classify.testing import FakeClassifyServer

DEADLINE = 10.0


async def stalled_after(ids: list[str], resume: asyncio.Event) -> AsyncIterator[str]:
    """``ids``, then a pause until ``resume`` is set (a queue that went quiet), then one more."""
    for job_id in ids:
        yield job_id
    await resume.wait()
    yield "cls-late"


async def test_finished_batches_are_yielded_while_the_input_is_stalled(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(5)
    resume = asyncio.Event()
    async with aclosing(client.iter_jobs(stalled_after(ids, resume), batch_size=5)) as jobs:
        async with asyncio.timeout(DEADLINE):  # today's code waits for the input first
            first = [await anext(jobs) for _ in ids]
        assert {job.id for job in first} == set(ids)
        resume.set()
        rest = [job async for job in jobs]
    assert rest == []  # "cls-late" is unknown to the server


async def test_closing_while_the_input_is_stalled_cancels_the_reader(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(3)
    resume = asyncio.Event()
    reading_done = asyncio.Event()

    async def source() -> AsyncIterator[str]:
        try:
            async for job_id in stalled_after(ids, resume):
                yield job_id
        finally:
            reading_done.set()

    jobs = client.iter_jobs(source(), batch_size=3)
    async with asyncio.timeout(DEADLINE):
        assert (await anext(jobs)).id in ids
        await jobs.aclose()
    assert reading_done.is_set()  # the stalled input was closed, not left waiting


async def test_a_bad_id_after_a_stall_still_raises_after_the_good_batches(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(2)
    resume = asyncio.Event()

    async def source() -> AsyncIterator[object]:
        for job_id in ids:
            yield job_id
        await resume.wait()
        yield 42  # not an id

    seen: list[str] = []

    async def consume() -> None:
        async for job in client.iter_jobs(source(), batch_size=2):  # type: ignore[arg-type]
            seen.append(job.id)
            resume.set()

    async with asyncio.timeout(DEADLINE):
        with pytest.raises(TypeError, match="job_ids item"):
            await consume()
    assert sorted(seen) == sorted(ids)
