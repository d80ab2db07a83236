"""Client-side throttling: one limiter per call kind, shared by every task using a client.

Why: when many gathered calls each retry on their own after a 429, they obey the same
``Retry-After``, wake together, collide again and use up their retries; nothing learns the
server's rate. Here every request first waits for its turn in its call kind's limiter, which
spaces sends evenly and adapts its rate to the server's answers, so the herd queues instead of
hammering. Waiting for a turn is not an attempt: ``max_retries`` still counts failed requests.

How the adaptive rate moves (the CUBIC curve of the AWS SDKs' "adaptive" retry mode, with
their constants, chosen over additive-increase / multiplicative-decrease by measurement; see
docs/guides/rate-limits.md):

- Before a call kind has seen a 429 it is in a slow start: at most ``INITIAL_WINDOW`` requests
  in flight, one more per success, so the first wave of gathered calls cannot flood the server.
- A 429 ends the slow start and cuts the rate to ``BETA`` times the rate it was sending at (that
  rate is remembered as ``w_max``). 429s of requests sent before the cut belong to the same
  congestion event and do not cut again, so a burst of 429s is one step down, not a ratchet.
- Successes raise the rate along ``C * (t - K)**3 + w_max`` (``t``: seconds since the cut):
  quickly back towards ``w_max``, flat near it, then probing above it. The rate never climbs
  above ``w_max`` or twice the rate actually sent, whichever is higher, so a quiet spell does
  not unleash a burst.

A server's hint (``Retry-After``, ``retry-after-ms``) still wins for the request it came with:
the retry policy sleeps that long before the request queues again. A hint longer than
``PAUSE_HINT`` also pauses the whole call kind.

Throttling (a first cut) and recovery (the curve back at ``w_max`` with no 429 since) are logged
at INFO on the ``aio_classify`` logger, once per transition; each record carries the attribute
``call_kind`` (the CLI shows exactly those on stderr).

A caller's cap (``rate_limit``) spaces a kind's sends at least ``1 / cap`` seconds apart, with
no burst. The limiter keeps no loop-bound primitive beyond the futures of the waiters of the
moment, and measures time with ``time.monotonic()``, so a client may be used from one event
loop after another.

The interface a limiter offers the transport (``Limiter``) is two calls, acquire a turn and
report its outcome, so a limiter shared by many processes could be plugged in later.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

from .._core.call_kinds import CALL_KINDS, CallKind
from .._core.errors import APIStatusError

__all__ = [
    "AdaptiveLimiter",
    "Limiter",
    "Outcome",
    "build_limiters",
    "in_turn",
]

logger = logging.getLogger("aio_classify")


#: Requests in flight a call kind starts with, before it has learned anything.
INITIAL_WINDOW = 2
#: The cubic curve's scale (rate units per second cubed) and the cut factor on a 429.
C = 0.4
BETA = 0.7
#: The adaptive rate never drops below this many requests per second.
MIN_RATE = 0.5
#: The window over which the sending rate is measured, in seconds.
MEASURE_WINDOW = 1.0
#: A 429's hint longer than ``PAUSE_HINT`` seconds pauses the whole call kind (for at most the
#: retry policy's ``max_retry_after``): the server wants quiet. A shorter one (``Retry-After: 1``
#: is whole seconds rounded up) only delays the request it came with; the rate cut paces the
#: others (measured: pausing the kind for ``Retry-After: 1`` made 500 gathered creates 1.32x the
#: ideal time, not 1.09x).
PAUSE_HINT = 1.0

T = TypeVar("T")
TurnT = TypeVar("TurnT")


class Outcome(enum.Enum):
    """What became of a request sent in its turn."""

    #: The server answered and did not throttle (2xx, or a 4xx other than 429).
    SUCCESS = "success"
    #: The server answered 429 Too Many Requests.
    THROTTLED = "throttled"
    #: No answer (connection error, timeout, cancelled) or a 5xx: nothing learned about the rate.
    INCONCLUSIVE = "inconclusive"


class Limiter(Protocol[TurnT]):
    """What the transport needs from a limiter: a turn before each request is sent, and the
    request's outcome once it has ended (exactly one ``report`` per ``acquire``). A limiter
    shared between processes (``coordination.Coordinator``) implements it too."""

    async def acquire(self) -> TurnT:
        """Wait for a turn; return it (opaque to the caller), to pass to ``report``."""
        ...

    def report(self, turn: TurnT, outcome: Outcome, retry_after: float | None = None) -> None:
        """The request sent at ``turn`` ended with ``outcome``; ``retry_after`` is the server's
        hint in seconds (``Retry-After`` / ``retry-after-ms``) when it sent one."""
        ...

    async def aclose(self) -> None:
        """The client is closing: finish what ``report`` left in the background."""
        ...


class AdaptiveLimiter:
    """The limiter of one call kind: an even pace (``cap`` and, when ``adaptive``, the rate
    learned from 429s) and, until the first 429, a slow-start window of requests in flight."""

    def __init__(
        self, kind: str, *, cap: float | None, adaptive: bool, max_pause: float = 60.0
    ) -> None:
        self.kind = kind
        self.cap = cap
        self.adaptive = adaptive
        self.max_pause = max_pause
        #: Learned sends per second; ``None`` until the first 429 (or without ``adaptive``).
        self.rate: float | None = None
        #: Most requests in flight during the slow start; ``None`` once it is over.
        self.window: float | None = INITIAL_WINDOW if adaptive else None
        self.in_flight = 0
        self.throttled = False
        self._w_max = 0.0
        self._k = 0.0
        self._last_cut = -math.inf
        self._next_send = -math.inf
        self._not_before = -math.inf
        #: Send times, for ``_measured``; only the adaptive rate reads them.
        self._sends: collections.deque[float] = collections.deque(maxlen=100_000)
        self._queue: collections.deque[asyncio.Future[None]] = collections.deque()
        self._freed: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        return (
            f"AdaptiveLimiter({self.kind!r}, cap={self.cap}, rate={self.rate}, "
            f"window={self.window}, in_flight={self.in_flight})"
        )

    # -- turns -----------------------------------------------------------------------------

    async def acquire(self) -> float:
        """Wait in line (first come, first served); only the head of the line watches the
        clock, the others sleep on their own future until the one before them has gone."""
        loop = asyncio.get_running_loop()
        me: asyncio.Future[None] = loop.create_future()
        self._queue.append(me)
        try:
            if self._queue[0] is not me:
                await me
            while True:
                now = time.monotonic()
                wait = self._wait_time(now)
                if wait == 0.0:
                    self._take(now)
                    return now
                if wait is None:
                    self._freed = loop.create_future()
                    await self._freed
                else:
                    await asyncio.sleep(wait)
        finally:
            was_head = self._queue[0] is me
            self._queue.remove(me)
            if was_head:
                self._wake_head()

    def report(self, turn: float, outcome: Outcome, retry_after: float | None = None) -> None:
        now = time.monotonic()
        self.in_flight -= 1
        if outcome is Outcome.SUCCESS:
            self._on_success(now)
        elif outcome is Outcome.THROTTLED:
            self._on_throttle(turn, now, retry_after)
        if self._freed is not None:
            _resolve(self._freed)
            self._freed = None

    async def aclose(self) -> None:
        """Nothing to finish: a local limiter keeps no background work."""

    def _wait_time(self, now: float) -> float | None:
        """Seconds until the head may go (0: now); ``None`` while the window is full."""
        if self.window is not None and self.in_flight >= self.window:
            return None
        return max(0.0, self._next_send - now, self._not_before - now)

    def _take(self, now: float) -> None:
        self.in_flight += 1
        if self.adaptive:
            self._sends.append(now)
        pace = min(self.cap or math.inf, self.rate or math.inf)
        self._next_send = now + 1.0 / pace

    def _wake_head(self) -> None:
        while self._queue and self._queue[0].get_loop().is_closed():
            self._queue.popleft()  # a waiter of a loop that is gone
        if self._queue:
            _resolve(self._queue[0])

    # -- learning the rate -----------------------------------------------------------------

    def _on_success(self, now: float) -> None:
        if not self.adaptive:
            return
        if self.rate is None:
            assert self.window is not None
            self.window += 1  # slow start: about double per round trip
            return
        since_cut = now - self._last_cut
        curve = C * (since_cut - self._k) ** 3 + self._w_max
        ceiling = max(self._w_max, 2.0 * self._measured(now))
        self.rate = max(MIN_RATE, min(curve, ceiling))
        if self.throttled and since_cut >= self._k:
            self.throttled = False
            logger.info(
                "%r calls recovered: sending up to %.1f/s again, the rate of the last 429",
                self.kind,
                self.rate,
                extra={"call_kind": self.kind},
            )

    def _on_throttle(self, turn: float, now: float, retry_after: float | None) -> None:
        if retry_after is not None and PAUSE_HINT < retry_after < math.inf:
            self._not_before = max(self._not_before, now + min(retry_after, self.max_pause))
        if not self.adaptive or turn < self._last_cut:
            return  # sent before the last cut: the same congestion event
        sending = self._measured(now)
        self._w_max = max(MIN_RATE, sending if self.rate is None else min(self.rate, sending))
        self._k = (self._w_max * (1.0 - BETA) / C) ** (1.0 / 3.0)
        self._last_cut = now
        self.rate = max(MIN_RATE, self._w_max * BETA)
        self.window = None
        if not self.throttled:
            self.throttled = True
            logger.info(
                "%r calls throttled by the server (429): sending at most %.1f/s, "
                "rising again as calls succeed",
                self.kind,
                self.rate,
                extra={"call_kind": self.kind},
            )

    def _measured(self, now: float) -> float:
        """Sends per second over the last ``MEASURE_WINDOW`` seconds."""
        while self._sends and self._sends[0] < now - MEASURE_WINDOW:
            self._sends.popleft()
        if not self._sends:
            return 0.0
        span = min(MEASURE_WINDOW, max(now - self._sends[0], 0.05))
        return len(self._sends) / span


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done() and not future.get_loop().is_closed():
        future.set_result(None)


async def in_turn(limiter: Limiter[Any], send: Callable[[], Awaitable[T]]) -> T:
    """``send()`` once the limiter gives a turn, then report how it went."""
    turn = await limiter.acquire()
    outcome, hint = Outcome.INCONCLUSIVE, None
    try:
        result = await send()
    except APIStatusError as exc:
        if exc.status_code == 429:
            outcome, hint = Outcome.THROTTLED, exc.retry_after
        elif exc.status_code < 500:
            outcome = Outcome.SUCCESS
        raise
    else:
        outcome = Outcome.SUCCESS
        return result
    finally:
        limiter.report(turn, outcome, hint)


def build_limiters(
    caps: Mapping[CallKind, float], adaptive: bool, *, max_pause: float
) -> dict[CallKind, AdaptiveLimiter]:
    """A limiter for each call kind that needs one: every kind when ``adaptive``, else the kinds
    ``caps`` (requests per second, checked by ``validation.check_rate_limit``) names; none
    pauses longer than ``max_pause`` seconds on a server's hint."""
    return {
        kind: AdaptiveLimiter(kind, cap=caps.get(kind), adaptive=adaptive, max_pause=max_pause)
        for kind in CALL_KINDS
        if adaptive or kind in caps
    }
