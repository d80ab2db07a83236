"""Waiting for jobs to end: rounds of lookups, a growing interval, one deadline.

The first look is made at once. Between rounds the interval grows by ``GROWTH`` from
``poll_interval`` to ``max_interval``. The deadline is taken on the event loop's monotonic clock
and cuts a round in progress too, so ``timeout`` bounds the whole wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from typing import Any, TypeVar

from attrs import frozen

from .batching import BatchLookup
from .errors import JobFailedError, NotFoundError, PollingTimeoutError
from .models import ClassifyJob, JobStatus
from .validation import check_poll_timing

__all__ = ["GROWTH", "PollOptions", "poll_in_rounds", "poll_one_job"]

GROWTH = 1.5

_T = TypeVar("_T")


@frozen(kw_only=True)
class PollOptions:
    """How to poll; ``checked`` makes one from a caller's arguments."""

    poll_interval: float
    max_interval: float
    timeout: float

    @classmethod
    def checked(cls, poll_interval: Any, max_interval: Any, timeout: Any) -> PollOptions:
        poll, most, whole = check_poll_timing(poll_interval, max_interval, timeout)
        return cls(poll_interval=poll, max_interval=most, timeout=whole)

    def intervals(self) -> Callable[[], float]:
        """Fresh sleeps: ``poll_interval``, then times ``GROWTH`` up to ``max_interval``."""
        interval = self.poll_interval

        def next_interval() -> float:
            nonlocal interval
            current, interval = interval, min(interval * GROWTH, self.max_interval)
            return current

        return next_interval


async def poll_one_job(
    fetch: Callable[[], Awaitable[ClassifyJob]],
    job_id: str,
    options: PollOptions,
    *,
    raise_on_failure: bool,
) -> ClassifyJob:
    """Poll one job with ``fetch`` (one ``GET``) until it is terminal.

    An unknown id raises ``fetch``'s ``NotFoundError`` at the first look; a CANCELLED job ends
    the wait as soon as it is seen, like any terminal state.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.timeout
    next_interval = options.intervals()
    while True:
        job = await _by_deadline(deadline, fetch(), {}, [job_id])
        if job.is_terminal:
            break
        await _by_deadline(deadline, asyncio.sleep(next_interval()), {}, [job_id])
    if raise_on_failure and job.status in {JobStatus.FAILED, JobStatus.CANCELLED}:
        raise JobFailedError(job)
    return job


async def poll_in_rounds(
    lookup: BatchLookup,
    job_ids: Sequence[str],
    options: PollOptions,
    finished: dict[str, ClassifyJob],
) -> AsyncGenerator[ClassifyJob, None]:
    """Yield each of the distinct ``job_ids`` once, as soon as a round sees it terminal.

    Each round looks up only the ids still pending, in batches (``lookup``). Every terminal job
    is also put in ``finished``. An id the server does not return in a round (unknown, or deleted
    meanwhile) would never end, so it raises ``NotFoundError`` after the jobs that round finished
    have been yielded, instead of waiting out the timeout.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.timeout
    next_interval = options.intervals()
    pending = dict.fromkeys(job_ids)
    while pending:
        missing = dict(pending)
        # The deadline wraps each batch, not each job: a timeout scope per job cost more CPU
        # than the rest of the round.
        async with aclosing(lookup.iter_batches(list(pending))) as batches:
            while (
                jobs := await _by_deadline(deadline, anext(batches, None), finished, pending)
            ) is not None:
                for job in jobs:
                    missing.pop(job.id, None)
                    if job.is_terminal and job.id in pending:
                        del pending[job.id]
                        finished[job.id] = job
                        yield job
        if missing:
            raise _not_found(list(missing))
        if pending:
            await _by_deadline(deadline, asyncio.sleep(next_interval()), finished, pending)


async def _by_deadline(
    deadline: float,
    step: Awaitable[_T],
    finished: dict[str, ClassifyJob],
    pending: dict[str, None] | list[str],
) -> _T:
    """Await one step of a wait; at the deadline, cancel it and raise ``PollingTimeoutError``.

    Applied per step rather than around the whole wait, because ``poll_in_rounds`` yields between
    steps and a timeout scope must never stay open across a ``yield``.
    """
    scope = asyncio.timeout_at(deadline)
    try:
        async with scope:
            return await step
    except TimeoutError:
        if not scope.expired():
            raise
        raise PollingTimeoutError(
            f"{len(pending)} job(s) still pending at the deadline "
            f"({len(finished)} finished): {_preview(list(pending))}",
            finished=finished,
            pending=list(pending),
        ) from None


def _not_found(job_ids: list[str]) -> NotFoundError:
    return NotFoundError(
        f"the server does not know {len(job_ids)} of the jobs waited for: {_preview(job_ids)}",
        status_code=404,
        body={"detail": "Job not found", "job_ids": job_ids},
        headers={},
    )


def _preview(job_ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(job_ids[:limit])
    return shown + (f" and {len(job_ids) - limit} more" if len(job_ids) > limit else "")
