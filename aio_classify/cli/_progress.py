"""Progress of a wait on many jobs, on stderr: a live bar on a terminal, plain lines otherwise.

On a terminal the bar is redrawn in place (``\\r``) a few times a second, so elapsed time and
rate move even while no job finishes. Anywhere else (a pipe, a CI log) it prints one plain line
at the start and one per interval when the counts changed (the last counts included), so logs
stay short and readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import aclosing
from types import TracebackType
from typing import Any, Self, TextIO

from .._client import ClassifyClient
from .._core.models import ClassifyJob, JobStatus

__all__ = ["Progress", "watch_with_progress"]

BAR_WIDTH = 24


class Progress:
    """``async with Progress(total, sys.stderr) as progress: progress.record(job)``."""

    def __init__(
        self,
        total: int,
        stream: TextIO,
        *,
        label: str = "wait",
        interval: float | None = None,
        live: bool | None = None,
    ) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self._stream = stream
        self._label = label
        self._live = stream.isatty() if live is None else live
        self._interval = interval if interval is not None else (0.1 if self._live else 1.0)
        self._started = time.monotonic()
        self._last_printed: tuple[int, int] | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return max(self.total - self.done - self.failed, 0)

    def record(self, job: ClassifyJob) -> None:
        """Count one job that reached a terminal state; only COMPLETED counts as done."""
        if job.status == JobStatus.COMPLETED:
            self.done += 1
        else:
            self.failed += 1

    def line(self) -> str:
        elapsed = time.monotonic() - self._started
        finished = self.done + self.failed
        rate = finished / elapsed if elapsed > 0 else 0.0
        counts = (
            f"{self.done} done, {self.failed} failed, {self.pending} pending, "
            f"{elapsed:.1f}s, {rate:.1f} jobs/s"
        )
        if not self._live:
            return f"{self._label}: {finished}/{self.total} finished ({counts})"
        filled = BAR_WIDTH * finished // self.total if self.total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        return f"{self._label} [{bar}] {finished}/{self.total}  {counts}"

    def render(self, *, final: bool = False) -> None:
        counts = (self.done, self.failed)
        if self._live:
            # Never wider than the terminal (a wrapped line cannot be redrawn with \r), and
            # cleared to its end so a shorter line leaves no old characters behind.
            width = shutil.get_terminal_size().columns - 1
            text = self.line()[:width]
            self._stream.write("\r" + text + "\x1b[K" + ("\n" if final else ""))
        elif counts != self._last_printed:  # the last line too: never the same counts twice
            self._stream.write(self.line() + "\n")
        self._last_printed = counts
        self._stream.flush()

    def clear(self) -> None:
        """Erase the live bar so a line printed to stdout on the same terminal is not mixed in;
        the ticker draws it again at its next beat."""
        if self._live:
            self._stream.write("\r\x1b[K")
            self._stream.flush()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self.render()

    async def __aenter__(self) -> Self:
        self._started = time.monotonic()
        self.render()
        self._ticker = asyncio.create_task(self._tick())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        self.render(final=True)


async def watch_with_progress(
    client: ClassifyClient,
    ids: list[str],
    *,
    print_jobs: Callable[[ClassifyJob], None] | None = None,
    stream: TextIO | None = None,
    **watch_options: Any,
) -> dict[str, ClassifyJob]:
    """``client.watch_jobs(ids)`` with its progress on ``stream`` (stderr); each finished job is
    passed to ``print_jobs`` as it arrives. Used by ``aio-classify wait`` and the demo."""
    finished: dict[str, ClassifyJob] = {}
    async with (
        Progress(len(ids), stream or sys.stderr) as progress,
        aclosing(client.watch_jobs(ids, **watch_options)) as jobs,
    ):
        async for job in jobs:
            finished[job.id] = job
            progress.record(job)
            if print_jobs is not None:
                progress.clear()
                print_jobs(job)
                sys.stdout.flush()
    return finished
