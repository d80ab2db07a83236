"""Waiting for jobs to end: rounds of lookups, a growing interval or webhook events, one deadline.

The first look is made at once. Without events, the interval between rounds grows by ``GROWTH``
from ``poll_interval`` to ``max_interval``. With ``events`` (a ``WebhookReceiver``), a terminal
event for a pending job makes the next look, at just the jobs events named, gathered for up to
``COALESCE_WINDOW`` seconds so that events arriving close together share one batched request (a
single job's wait looks at once, then at most once per ``COALESCE_WINDOW`` however many events
come); a
full round still runs every ``fallback_interval`` for jobs whose event never came (a job whose
event came before its record said it ended gets one more look ``RECHECK_AFTER`` later). Only
the record a lookup returns ends a job's wait; an event never does. The deadline is taken on the
event loop's monotonic clock and cuts a round in progress too, so ``timeout`` bounds the whole wait.

A single job's wait says when its next look falls due rather than sleeping itself, so a client
can make the look in a schedule shared by all its waits (``coalesce``). ``cancelling_on_timeout``
cancels the jobs a wait gave up on (``cancel_on_timeout``) before its timeout is raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Container,
    Iterator,
    Sequence,
)
from contextlib import aclosing, asynccontextmanager, contextmanager
from typing import Any, TypeVar

from attrs import frozen

from .._core.errors import ClassifyError, JobFailedError, NotFoundError, PollingTimeoutError
from .._core.models import ClassifyJob, JobStatus
from .._core.sanitize import message
from .._decode.status_page import Running
from .._observe import Telemetry
from .._validation import CheckedIds, check_poll_timing, check_seconds
from ..webhooks import EventSubscription, WebhookReceiver
from .batching import BatchLookup

__all__ = [
    "CANCEL_CONCURRENCY",
    "COALESCE_WINDOW",
    "GROWTH",
    "RECHECK_AFTER",
    "PollOptions",
    "cancel_all",
    "cancelling_on_timeout",
    "look_when_due",
    "poll_in_rounds",
    "poll_one_job",
]

GROWTH = 1.25
"""How much longer each wait between rounds is than the one before. 1.25 (with the default 1 s
growing to 5 s) sees a lone job ending in its first 10 s 1.2 s late on average, sooner than
the official SDK's sleeps of 1 s, 2 s, 3 s... (1.6 s), for about one request more a wait; 1.5
saw it 1.9 s late (measured in #22)."""

CANCEL_CONCURRENCY = 8
"""Cancels in flight at once when ``cancel_on_timeout`` cancels the jobs a wait gave up on."""

logger = logging.getLogger("aio_classify")

COALESCE_WINDOW = 0.2
"""Seconds a look prompted by an event waits for more events to share its request (unless a
whole batch is there sooner). It trades a little delay for far fewer requests: one look per event
would cost a request per job."""

_T = TypeVar("_T")

RECHECK_AFTER = 1.0
"""Seconds after which a job whose terminal event came before its record said so is looked at
once more (then it waits for another event or the fallback round): a record that lags its event
by a moment costs one request, not ``fallback_interval``."""

#: Given the ids an event named that the last look did not find ended, waits until the next look
#: is due; returns the ids to look at, or None for every pending id.
NextLook = Callable[[list[str]], Awaitable[list[str] | None]]


@frozen(kw_only=True)
class PollOptions:
    """How to poll; ``checked`` makes one from a caller's arguments."""

    poll_interval: float
    max_interval: float
    timeout: float
    events: WebhookReceiver | None = None
    fallback_interval: float = 30.0

    @classmethod
    def checked(
        cls,
        poll_interval: Any,
        max_interval: Any,
        timeout: Any,
        *,
        events: Any = None,
        fallback_interval: Any = 30.0,
    ) -> PollOptions:
        poll, most, whole = check_poll_timing(poll_interval, max_interval, timeout)
        if events is not None and not isinstance(events, WebhookReceiver):
            raise TypeError(
                f"events must be a WebhookReceiver or None, not {type(events).__name__}"
            )
        return cls(
            poll_interval=poll,
            max_interval=most,
            timeout=whole,
            events=events,
            fallback_interval=check_seconds(fallback_interval, "fallback_interval"),
        )

    def intervals(self) -> Callable[[], float]:
        """Fresh sleeps: ``poll_interval``, then times ``GROWTH`` up to ``max_interval``."""
        interval = self.poll_interval

        def next_interval() -> float:
            nonlocal interval
            current, interval = interval, min(interval * GROWTH, self.max_interval)
            return current

        return next_interval

    @contextmanager
    def schedule(
        self, pending: Container[str], *, window: float, batch: int, spacing: float = 0.0
    ) -> Iterator[NextLook]:
        """The wait between looks, for one wait: a growing sleep, or (with ``events``) the
        events for ``pending`` jobs, gathered ``window`` seconds or until ``batch`` ids are there,
        and at least ``spacing`` seconds after the last look an event prompted.
        Subscribed before the first look, so no event is lost while it runs."""
        if self.events is None:
            yield self._sleeps()
            return
        with self.events.subscribe(pending) as inbox:
            yield self._events(inbox, window=window, batch=batch, spacing=spacing)

    def _sleeps(self) -> NextLook:
        next_interval = self.intervals()

        async def sleep(unconfirmed: list[str]) -> list[str] | None:
            await asyncio.sleep(next_interval())
            return None

        return sleep

    def _events(
        self, inbox: EventSubscription, *, window: float, batch: int, spacing: float
    ) -> NextLook:
        loop = asyncio.get_running_loop()
        fallback_at = loop.time() + self.fallback_interval
        not_before = 0.0

        async def next_event_look(unconfirmed: list[str]) -> list[str] | None:
            nonlocal fallback_at, not_before
            inbox.recheck(unconfirmed, after=RECHECK_AFTER)
            ids = await inbox.batch(
                until=fallback_at, window=window, flush_at=batch, not_before=not_before
            )
            if ids:
                not_before = loop.time() + spacing
                return ids
            fallback_at = loop.time() + self.fallback_interval
            return None

        return next_event_look


async def poll_one_job(
    look: Callable[[float], Awaitable[ClassifyJob | Running]],
    job_id: str,
    options: PollOptions,
    *,
    raise_on_failure: bool,
) -> ClassifyJob:
    """Poll one job until it is terminal; ``look(due)`` looks at it no earlier than loop time
    ``due`` (a ``GET`` then, or a place in a client's shared schedule, ``coalesce``).

    The first look is due at once, each next one an interval (growing) after the last answer;
    with ``events``, a look is due as soon as a terminal event names the job (and every
    ``fallback_interval``). An unknown id raises ``look``'s ``NotFoundError``; a CANCELLED job
    ends the wait as soon as it is seen, like any terminal state.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.timeout
    due = loop.time()
    next_interval = options.intervals()
    # The first event prompts a look at once; a flood of them (forged, repeated) one look
    # every COALESCE_WINDOW at most, like a batch wait's.
    schedule = options.schedule({job_id}, window=0.0, batch=1, spacing=COALESCE_WINDOW)
    with schedule as next_look:
        named: list[str] | None = None
        while True:
            job = await _by_deadline(deadline, look(due), {}, [job_id])
            if type(job) is ClassifyJob and job.is_terminal:
                break
            if options.events is None:
                due = loop.time() + next_interval()
            else:
                named = await _by_deadline(deadline, next_look(named or []), {}, [job_id])
                due = loop.time()
    if raise_on_failure and job.status in {JobStatus.FAILED, JobStatus.CANCELLED}:
        raise JobFailedError(job)
    return job


async def look_when_due(fetch: Callable[[], Awaitable[_T]], due: float) -> _T:
    """``fetch()`` once loop time ``due`` has come (at once if it has): a wait's look made on
    its own, without a shared schedule."""
    delay = due - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)
    return await fetch()


@asynccontextmanager
async def cancelling_on_timeout(
    cancel: Callable[[str], Awaitable[object]] | None,
) -> AsyncIterator[None]:
    """On ``PollingTimeoutError``, ``cancel`` each job still pending (best effort: a failed
    cancel is logged, never raised over the timeout), then let the timeout go on."""
    try:
        yield
    except PollingTimeoutError as timed_out:
        if cancel is not None:
            await cancel_all(cancel, timed_out.pending)
        raise


async def cancel_all(cancel: Callable[[str], Awaitable[object]], job_ids: list[str]) -> None:
    """``cancel`` every job, at most ``CANCEL_CONCURRENCY`` at once; failures are logged."""
    limiter = asyncio.Semaphore(CANCEL_CONCURRENCY)

    async def cancel_one(job_id: str) -> None:
        async with limiter:
            try:
                await cancel(job_id)
            except ClassifyError as failed:
                logger.warning(
                    "%s", message(f"could not cancel job {job_id} at the timeout: {failed}")
                )

    await asyncio.gather(*(cancel_one(job_id) for job_id in job_ids))


async def poll_in_rounds(
    lookup: BatchLookup[ClassifyJob | Running],
    job_ids: Sequence[str],
    options: PollOptions,
    finished: dict[str, ClassifyJob],
    telemetry: Telemetry,
) -> AsyncGenerator[ClassifyJob, None]:
    """Yield each of the distinct ``job_ids`` once, as soon as a look sees it terminal.

    A full round looks up every id still pending, in batches (``lookup``, which reads pages as
    ``status_page`` does: every record checked, the whole record built only of a job that has
    ended); with events, the looks between rounds ask only about the ids that
    events named. Every terminal job is also put in ``finished``. An id the server does not
    return in a full round (unknown, or deleted meanwhile) would never end, so it raises
    ``NotFoundError`` after the jobs that round finished have been yielded, instead of waiting
    out the timeout. A look prompted by an event never raises for a missing id: an event naming
    a job the service does not know proves nothing. Each look is a round of ``telemetry``
    (a span over its batches, when traced).
    """
    deadline = asyncio.get_running_loop().time() + options.timeout
    pending = dict.fromkeys(job_ids)
    batch = lookup.batch_size
    with options.schedule(pending, window=COALESCE_WINDOW, batch=batch) as next_look:
        named: list[str] | None = None  # None: a full round
        while pending:
            looked_at = CheckedIds(pending if named is None else named)  # pending's own ids
            missing = dict.fromkeys(looked_at)
            # The deadline wraps each batch, not each job: a timeout scope per job cost more
            # CPU than the rest of the round.
            with telemetry.watch_round(len(looked_at)) as round_:
                async with aclosing(lookup.iter_batches(looked_at)) as batches:
                    while (
                        jobs := await _by_deadline(
                            deadline, round_.run(anext(batches, None)), finished, pending
                        )
                    ) is not None:
                        for job in jobs:
                            missing.pop(job.id, None)
                            if type(job) is ClassifyJob and job.id in pending:  # it has ended
                                del pending[job.id]
                                finished[job.id] = job
                                yield job
                round_.set_attribute("aio_classify.jobs.found", len(looked_at) - len(missing))
            if missing and named is None:
                raise _not_found(list(missing))
            if pending:
                unconfirmed = [job_id for job_id in named or () if job_id in pending]
                named = await _by_deadline(deadline, next_look(unconfirmed), finished, pending)


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
