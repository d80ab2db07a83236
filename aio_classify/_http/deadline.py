"""A whole call's deadline (``total_timeout``): attempts, backoff, server hints and waits for a
throttling turn all fit inside it.

Why apart: the retry policy asks one question of it (does the next wait still leave time for an
attempt?) and runs each attempt under it; the deadline itself is one point on the event loop's
clock, so it is cheap to make per request and knows nothing of HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .._core.errors import APITimeoutError
from .._core.sanitize import detached

__all__ = ["Deadline"]

_T = TypeVar("_T")


class Deadline:
    """``seconds`` from now on the running loop's clock; ``label`` names the call in messages."""

    __slots__ = ("_at", "_label", "_loop", "_seconds")

    def __init__(self, seconds: float, label: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._at = self._loop.time() + seconds
        self._seconds = seconds
        self._label = label

    def leaves_time_after(self, wait: float) -> bool:
        """Whether an attempt could still start after waiting ``wait`` seconds."""
        return self._loop.time() + wait < self._at

    async def run(self, attempt: Callable[[], Awaitable[_T]]) -> _T:
        """``await attempt()``, cut off at the deadline with ``APITimeoutError``."""
        scope = asyncio.timeout_at(self._at)
        try:
            async with scope:
                return await attempt()
        except TimeoutError:
            if not scope.expired():
                raise
        raise detached(APITimeoutError(f"{self._label} ran out of total_timeout={self._seconds}s"))
