"""Client-side throttling: one limiter per call kind, shared by every task using a client.

Why: when many gathered calls each retry on their own after a 429, they obey the same
``Retry-After``, wake together, collide again and use up their retries; nothing learns the
server's rate. Here every request first waits for its turn in its call kind's limiter, which
spaces sends evenly and adapts its rate to the server's answers, so the herd queues instead of
hammering. Waiting for a turn is not an attempt: ``max_retries`` still counts failed requests.

The pieces: ``rate_curve`` (where a 429 cuts the rate and how successes raise it: pure rules),
``pacer`` (spacing sends on an injectable clock), ``answers`` (what an answer says about the
rate); this module is the glue: the line of waiters, the slow start, and the log.

- Before a call kind has seen a 429 it is in a slow start: at most ``INITIAL_WINDOW`` requests
  in flight, one more per success, so the first wave of gathered calls cannot flood the server.
- A 429 ends the slow start and cuts the rate (``rate_curve.cut``). 429s of requests sent before
  the cut belong to the same congestion event and do not cut again, so a burst of 429s is one
  step down, not a ratchet. Successes raise the rate again (``rate_curve.climb``).

A server's hint (``Retry-After``, ``retry-after-ms``) still wins for the request it came with:
the retry policy sleeps that long before the request queues again. A hint longer than
``PAUSE_HINT`` also pauses the whole call kind.

Throttling (a first cut) and recovery (the curve back at ``w_max`` with no 429 since) are logged
at INFO on the ``aio_classify`` logger, once per transition; each record carries the attribute
``call_kind`` (the CLI shows exactly those on stderr).

A caller's cap (``rate_limit``) spaces a kind's sends at least ``1 / cap`` seconds apart, with
no burst. The limiter keeps no loop-bound primitive beyond the futures of the waiters of the
moment, and reads time from its ``pacer.Clock`` (``time.monotonic()`` unless a test gives it
another), so a client may be used from one event loop after another.

The interface a limiter offers the transport (``Limiter``) is two calls, acquire a turn and
report its outcome, so a limiter shared by many processes could be plugged in later.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

from .._core.call_kinds import CALL_KINDS, CallKind
from .._core.errors import RateLimitError
from .answers import Outcome, classify
from .pacer import REAL_CLOCK, Clock, Pacer
from .rate_curve import Cut, SendMeter, climb, cut

__all__ = [
    "AdaptiveLimiter",
    "Limiter",
    "Outcome",
    "TurnBudget",
    "build_limiters",
    "in_turn",
]

logger = logging.getLogger("aio_classify")


#: Requests in flight a call kind starts with, before it has learned anything.
INITIAL_WINDOW = 2
#: A 429's hint longer than ``PAUSE_HINT`` seconds pauses the whole call kind (for at most the
#: retry policy's ``max_retry_after``): the server wants quiet. A shorter one (``Retry-After: 1``
#: is whole seconds rounded up) only delays the request it came with; the rate cut paces the
#: others (measured: pausing the kind for ``Retry-After: 1`` made 500 gathered creates 1.32x the
#: ideal time, not 1.09x).
PAUSE_HINT = 1.0

T = TypeVar("T")
TurnT = TypeVar("TurnT")


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
        self,
        kind: str,
        *,
        cap: float | None,
        adaptive: bool,
        max_pause: float = 60.0,
        clock: Clock = REAL_CLOCK,
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
        self._clock = clock
        self._pacer = Pacer()
        self._last_cut: Cut | None = None
        #: Send times; only the adaptive rate reads them.
        self._meter = SendMeter()
        self._queue: collections.deque[asyncio.Future[None]] = collections.deque()
        self._freed: asyncio.Future[None] | None = None
        #: One client may be used from several event loops at once, each in its own thread:
        #: every read and change of the state above is made under this lock (never across an
        #: ``await``), and a waiter is woken on its own loop (``_resolve``).
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"AdaptiveLimiter({self.kind!r}, cap={self.cap}, rate={self.rate}, "
            f"window={self.window}, in_flight={self.in_flight})"
        )

    # -- turns -----------------------------------------------------------------------------

    async def acquire(self) -> float:
        """Wait in line (first come, first served, whatever loop or thread each waiter runs
        on); only the head of the line watches the clock, the others sleep on their own future
        until the one before them has gone."""
        loop = asyncio.get_running_loop()
        me: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._queue.append(me)
            first = self._queue[0] is me
        try:
            if not first:
                await me
            while True:
                with self._lock:
                    now = self._clock.now()
                    wait = self._wait_time(now)
                    if wait == 0.0:
                        self._take(now)
                        return now
                    if wait is None:
                        freed = self._freed = loop.create_future()
                if wait is None:
                    await freed
                else:
                    await self._clock.sleep(wait)
        finally:
            with self._lock:
                was_head = self._queue[0] is me
                self._queue.remove(me)
                head = self._live_head() if was_head else None
            if head is not None:
                _resolve(head)

    def report(self, turn: float, outcome: Outcome, retry_after: float | None = None) -> None:
        with self._lock:
            now = self._clock.now()
            self.in_flight -= 1
            if outcome is Outcome.SUCCESS:
                self._on_success(now)
            elif outcome is Outcome.THROTTLED:
                self._on_throttle(turn, now, retry_after)
            freed, self._freed = self._freed, None
        if freed is not None:
            _resolve(freed)

    async def aclose(self) -> None:
        """Nothing to finish: a local limiter keeps no background work."""

    def _wait_time(self, now: float) -> float | None:
        """Seconds until the head may go (0: now); ``None`` while the window is full."""
        if self.window is not None and self.in_flight >= self.window:
            return None
        return self._pacer.wait(now)

    def _take(self, now: float) -> None:
        self.in_flight += 1
        if self.adaptive:
            self._meter.record(now)
        self._pacer.sent(now, min(self.cap or math.inf, self.rate or math.inf))

    def _live_head(self) -> asyncio.Future[None] | None:
        """The new head of the line (under the lock), skipping waiters of loops that are gone."""
        while self._queue and self._queue[0].get_loop().is_closed():
            self._queue.popleft()
        return self._queue[0] if self._queue else None

    # -- learning the rate -----------------------------------------------------------------

    def _on_success(self, now: float) -> None:
        if not self.adaptive:
            return
        if self._last_cut is None:
            assert self.window is not None
            self.window += 1  # slow start: about double per round trip
            return
        self.rate = climb(self._last_cut, now, sending=self._meter.rate(now))
        if self.throttled and self._last_cut.recovered(now):
            self.throttled = False
            logger.info(
                "%r calls recovered: sending up to %.1f/s again, the rate of the last 429",
                self.kind,
                self.rate,
                extra={"call_kind": self.kind},
            )

    def _on_throttle(self, turn: float, now: float, retry_after: float | None) -> None:
        if retry_after is not None and PAUSE_HINT < retry_after < math.inf:
            self._pacer.pause_until(now + min(retry_after, self.max_pause))
        if not self.adaptive or (self._last_cut is not None and turn < self._last_cut.at):
            return  # sent before the last cut: the same congestion event
        self._last_cut = cut(now, rate=self.rate, sending=self._meter.rate(now))
        self.rate = self._last_cut.rate
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


def _resolve(future: asyncio.Future[None]) -> None:
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


class TurnBudget:
    """One call's allowance of time spent waiting for turns, over all its attempts.

    Why: waiting for a turn is not an attempt, so neither ``max_retries`` nor ``timeout``
    bounds it; against a server that throttles whatever the rate, the adaptive rate sinks to its
    floor and a call could wait for many minutes. Past ``seconds`` (``None``: no limit) the call
    ends with a ``RateLimitError`` that is not retried.
    """

    def __init__(self, seconds: float | None, kind: str) -> None:
        self._left = seconds
        self._kind = kind

    async def spend(self, acquire: Awaitable[TurnT]) -> TurnT:
        """``await acquire``, for no longer than what is left of the allowance."""
        if self._left is None:
            return await acquire
        loop = asyncio.get_running_loop()
        started = loop.time()
        scope = asyncio.timeout(self._left)
        try:
            async with scope:
                return await acquire
        except TimeoutError:
            if not scope.expired():
                raise
            raise self._exceeded() from None
        finally:
            self._left = max(0.0, self._left - (loop.time() - started))

    def _exceeded(self) -> RateLimitError:
        message = (
            f"gave up on a {self._kind!r} call: it waited its whole allowance for a turn while "
            "the server throttled (RetryPolicy.max_throttle_wait)"
        )
        body = {"detail": message}
        return RateLimitError(message, status_code=429, body=body, headers={}, should_retry=False)


async def in_turn(
    limiter: Limiter[Any], send: Callable[[], Awaitable[T]], budget: TurnBudget | None = None
) -> T:
    """``send()`` once the limiter gives a turn (within ``budget``, if any), then report what
    its answer says about the rate (``answers.classify``)."""
    acquire = limiter.acquire()
    turn = await (acquire if budget is None else budget.spend(acquire))
    failure: BaseException | None = None
    try:
        return await send()
    except BaseException as exc:
        failure = exc
        raise
    finally:
        answer = classify(failure)
        limiter.report(turn, answer.outcome, answer.throttle_hint)


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
