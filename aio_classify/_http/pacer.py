"""The pacer: when the next request of a call kind may be sent, on a clock that can be swapped.

Why apart: spacing sends ``1 / rate`` apart and honouring a pause are rules about time alone; with
the clock and the sleep injected (``Clock``), they are checked with a fake clock that advances only
when told to, so their tests never sleep. The real clock is ``time.monotonic`` with
``asyncio.sleep``; it keeps no loop-bound state, so a client may be used from one event loop after
another.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from attrs import frozen

__all__ = ["REAL_CLOCK", "Clock", "Pacer"]


@frozen
class Clock:
    """Where the limiter reads the time (``now``) and how it waits (``sleep``)."""

    now: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]]


REAL_CLOCK = Clock(now=time.monotonic, sleep=asyncio.sleep)


class Pacer:
    """Sends spaced at least ``1 / pace`` apart, and none before a pause ends."""

    def __init__(self) -> None:
        self._next_send = -math.inf
        self._not_before = -math.inf

    def wait(self, now: float) -> float:
        """Seconds from ``now`` until the next send may go (0: now)."""
        return max(0.0, self._next_send - now, self._not_before - now)

    def sent(self, now: float, pace: float) -> None:
        """A send went at ``now``; the next waits ``1 / pace`` (``pace`` may be ``inf``)."""
        self._next_send = now + 1.0 / pace

    def pause_until(self, until: float) -> None:
        """No send before ``until`` (a later pause already set stands)."""
        self._not_before = max(self._not_before, until)
