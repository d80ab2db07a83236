"""The line of tasks waiting for a limiter's turn: first come, first served, one head at a time.

Why apart: every limiter (the local ``throttle.AdaptiveLimiter`` and a coordinator's shared one)
lets only the task at the head of its line watch the clock or talk to a backend, while the tasks
behind it sleep on a future of their own until the one before them has gone. The line holds no
loop-bound primitive beyond those futures, so a limiter may be used from one event loop after
another; a waiter left behind by a loop that is gone is skipped.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator

__all__ = ["Line", "resolve"]


class Line:
    """Tasks waiting in order; ``len()`` counts them, the head included."""

    def __init__(self) -> None:
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def __len__(self) -> int:
        return len(self._waiters)

    @contextlib.asynccontextmanager
    async def head(self) -> AsyncIterator[None]:
        """Join the line; the body runs once this task is at its head, and leaving it (however)
        hands the head to the next task."""
        me: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(me)
        try:
            if self._waiters[0] is not me:
                await me
            yield
        finally:
            was_head = self._waiters[0] is me
            self._waiters.remove(me)
            if was_head:
                self._wake_head()

    def _wake_head(self) -> None:
        while self._waiters and self._waiters[0].get_loop().is_closed():
            self._waiters.popleft()  # a waiter of a loop that is gone
        if self._waiters:
            resolve(self._waiters[0])


def resolve(future: asyncio.Future[None]) -> None:
    """Set ``future``'s result unless it is done or its loop is closed."""
    if not future.done() and not future.get_loop().is_closed():
        future.set_result(None)
