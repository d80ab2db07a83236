"""``scan_jobs``: one range of creation times listed as several windows, paged side by side.

Why: a listing is a chain of pages, each needing the token of the one before, so one listing
waits one round trip per page however fast the client is. Cutting the range into windows gives
as many chains, fetched concurrently: the export of a big range takes about the time of its
longest window instead of the sum of all pages.

Exactly once: the service's date filters are inclusive at both ends, so windows sharing a bound
would both list a job created on it. Windows are half-open, ``[start, next start)``, and only the
last one is closed at the range's end: each window asks the service for up to one microsecond
(the resolution of ISO 8601 datetimes here) before the next window's start, and a job whose
``created_at`` falls outside its window is dropped, so even a server that rounds the bounds
cannot hand a boundary job to two windows.

Absolute time: the range is cut in UTC. Python's arithmetic on two datetimes of one time zone
is wall-clock arithmetic, so windows cut in, say, America/New_York would overlap across the
autumn fall-back (jobs repeated) and skip an hour's worth across the spring gap.

Each window is an ordinary ``JobPager`` (the same query building, validation and loop
detection as ``list_jobs``), made only when the window's turn comes: windows are computed one at
a time, and ``batching.fan_out`` fetches one page per task, at most ``concurrency`` at once, and
asks a window for its next page only once its last one arrived, so memory stays at about
``concurrency`` pages however big the range and however many partitions. A failing window raises
and cancels the others; closing or cancelling the scan cancels and awaits every fetch.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from contextlib import aclosing
from datetime import UTC, datetime, timedelta

from attrs import frozen

from .._core.models import ClassifyJob, Page
from .batching import fan_out
from .pagination import JobPager

__all__ = ["TimeWindow", "scan", "split_range"]

_ONE_MICROSECOND = timedelta(microseconds=1)

ListWindow = Callable[[datetime, datetime], JobPager]
"""The listing of the jobs created from its first to its second argument, both inclusive."""


@frozen
class TimeWindow:
    """Creation times from ``start`` (inclusive) to ``end`` (exclusive unless ``closed``)."""

    start: datetime
    end: datetime
    closed: bool

    @property
    def last(self) -> datetime:
        """The latest creation time inside the window, for the service's inclusive filter."""
        return self.end if self.closed else self.end - _ONE_MICROSECOND

    def holds(self, job: ClassifyJob) -> bool:
        """Whether ``job`` belongs here; a job without ``created_at`` stays where it was listed."""
        created = job.created_at
        return created is None or self.start <= created <= self.last


def split_range(start: datetime, end: datetime, partitions: int) -> Iterator[TimeWindow]:
    """``[start, end]`` (aware datetimes, ``start <= end``) as at most ``partitions`` windows of
    equal length in absolute time (UTC), each at least a microsecond long; together they hold
    every instant once. Made one at a time, as they are asked for."""
    first, last = start.astimezone(UTC), end.astimezone(UTC)
    span = (last - first) // _ONE_MICROSECOND
    count = max(1, min(partitions, span))

    def bound(index: int) -> datetime:
        return last if index == count else first + _ONE_MICROSECOND * (span * index // count)

    for index in range(count):
        yield TimeWindow(bound(index), bound(index + 1), closed=index == count - 1)


@frozen(eq=False)
class _Window:
    """A window and its pages, fetched one at a time."""

    bounds: TimeWindow
    pages: AsyncGenerator[Page, None]


@frozen
class _Fetched:
    window: _Window
    page: Page | None  # None: the window has no more pages


async def scan(
    list_window: ListWindow, windows: Iterable[TimeWindow], *, concurrency: int
) -> AsyncGenerator[ClassifyJob, None]:
    """Every job of every window, once, as pages arrive (the order is not kept). A window's
    pager is made when its turn comes, and forgotten when its last page came."""
    open_windows: set[_Window] = set()

    async def opened() -> AsyncGenerator[_Window, None]:
        for bounds in windows:
            window = _Window(bounds, list_window(bounds.start, bounds.last).pages())
            open_windows.add(window)
            yield window

    def follow_up(fetched: _Fetched) -> _Window | None:
        if fetched.page is None:
            open_windows.discard(fetched.window)
            return None
        return fetched.window

    try:
        fetched = fan_out(opened(), _next_page, max_tasks=concurrency, follow_up=follow_up)
        async with aclosing(fetched) as results:
            async for result in results:
                if result.page is not None:
                    for job in result.page.items:
                        if result.window.bounds.holds(job):
                            yield job
    finally:
        # fan_out has cancelled and awaited its fetches, so no window is being iterated.
        for window in open_windows:
            await window.pages.aclose()


async def _next_page(window: _Window) -> _Fetched:
    return _Fetched(window, await anext(window.pages, None))
