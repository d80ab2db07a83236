"""The line of tasks waiting for a limiter's turn: first come, first served, one head at a time.

Why apart: every limiter (the local ``throttle.AdaptiveLimiter`` and a coordinator's shared one)
lets only the task at the head of its line watch the clock or talk to a backend, while the tasks
behind it sleep on a future of their own until the one before them has gone. One client may be
used from several event loops at once, each in its own thread: the line is changed under a lock,
and a waiter is woken on its own loop (``resolve``). It holds no loop-bound primitive beyond
those futures, so a limiter may be used from one event loop after another; a waiter left behind
by a loop that is gone is skipped.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import AsyncIterator

__all__ = ["Line", "resolve"]


class Line:
    """Tasks waiting in order; ``len()`` counts them, the head included."""

    def __init__(self) -> None:
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._waiters)

    @contextlib.asynccontextmanager
    async def head(self) -> AsyncIterator[None]:
        """Join the line; the body runs once this task is at its head, and leaving it (however)
        hands the head to the next task."""
        me: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiters.append(me)
            first = self._waiters[0] is me
        try:
            if not first:
                await me
            yield
        finally:
            with self._lock:
                was_head = self._waiters[0] is me
                self._waiters.remove(me)
                head = self._live_head() if was_head else None
            if head is not None:
                resolve(head)

    def _live_head(self) -> asyncio.Future[None] | None:
        """The new head (under the lock), skipping waiters of loops that are gone."""
        while self._waiters and self._waiters[0].get_loop().is_closed():
            self._waiters.popleft()
        return self._waiters[0] if self._waiters else None


def resolve(future: asyncio.Future[None]) -> None:
    """Wake a waiter on its own loop: directly from that loop's thread, else through
    ``call_soon_threadsafe`` (a future set from another thread would not wake its loop)."""
    loop = future.get_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        _set(future)
        return
    with contextlib.suppress(RuntimeError):  # its loop closed meanwhile: nobody waits
        loop.call_soon_threadsafe(_set, future)


def _set(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
