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

Each window is an ordinary ``JobPager`` (the same query building, validation and loop
detection as ``list_jobs``). ``batching.fan_out`` fetches one page per task, at most
``concurrency`` at once, and asks a window for its next page only once its last one arrived, so
memory stays at about ``concurrency`` pages however big the range. A failing window raises and
cancels the others; closing or cancelling the scan cancels and awaits every fetch.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from datetime import datetime, timedelta

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


def split_range(start: datetime, end: datetime, partitions: int) -> list[TimeWindow]:
    """``[start, end]`` (aware datetimes, ``start <= end``) as at most ``partitions`` windows of
    equal length, each at least a microsecond long; together they hold every instant once."""
    span = (end - start) // _ONE_MICROSECOND
    count = max(1, min(partitions, span))
    bounds = [start + _ONE_MICROSECOND * (span * index // count) for index in range(count)]
    bounds.append(end)
    return [
        TimeWindow(bounds[index], bounds[index + 1], closed=index == count - 1)
        for index in range(count)
    ]


@frozen
class _Window:
    """A window and its pages, fetched one at a time."""

    bounds: TimeWindow
    pages: AsyncGenerator[Page, None]


@frozen
class _Fetched:
    window: _Window
    page: Page | None  # None: the window has no more pages


async def scan(
    list_window: ListWindow, windows: list[TimeWindow], *, concurrency: int
) -> AsyncGenerator[ClassifyJob, None]:
    """Every job of every window, once, as pages arrive (the order is not kept)."""
    open_windows = [
        _Window(bounds, list_window(bounds.start, bounds.last).pages()) for bounds in windows
    ]
    try:
        fetched = fan_out(
            _each(open_windows), _next_page, max_tasks=concurrency, follow_up=_continue
        )
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


async def _each(windows: list[_Window]) -> AsyncGenerator[_Window, None]:
    for window in windows:
        yield window


async def _next_page(window: _Window) -> _Fetched:
    return _Fetched(window, await anext(window.pages, None))


def _continue(fetched: _Fetched) -> _Window | None:
    return fetched.window if fetched.page is not None else None
