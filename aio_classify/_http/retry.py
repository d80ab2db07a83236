"""The retry policy as data; ``transport`` hands it each request to send (``RetryPolicy.call``).

The first attempt goes out directly: most requests succeed at once, and building tenacity's
machinery for each of them cost about a tenth of a listing's CPU. Only after a retryable failure
is a fresh ``AsyncRetrying`` built (one per request: it keeps its attempt state on itself, so one
shared between concurrent tasks would mix their attempts up), and that failure is replayed to it as
its first attempt, so counting, waits and logging are tenacity's, unchanged (the log record
of a retry is ``_observe.plain.log_retry``'s).

With a ``Deadline`` (``total_timeout``), each attempt runs under it and retrying stops, with the
last error, as soon as the next wait would leave no time for another attempt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from attrs import Attribute, field, frozen
from attrs.validators import ge
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_exponential_jitter

from .._observe.plain import log_retry
from .._validation import check_number
from .answers import classify
from .deadline import Deadline

__all__ = ["RetryPolicy"]

_T = TypeVar("_T")

MAX_THROTTLE_WAIT = 300.0
"""Seconds one call may wait for turns by default: a well-paced queue of a few thousand gathered
calls fits (3,000 at 10/s), a server that throttles whatever the rate cannot hold a call for
ever (at the adaptive rate's floor of 0.5/s, 300 s is 150 turns)."""


def _finite_non_negative(_: Any, attribute: Attribute[Any], value: Any) -> None:
    check_number(
        value, attribute.name, what="a number", wanted="a finite number >= 0", low_allowed=True
    )


def _no_limit_or_finite_non_negative(instance: Any, attribute: Attribute[Any], value: Any) -> None:
    if value is not None:
        _finite_non_negative(instance, attribute, value)


@frozen(kw_only=True)
class RetryPolicy:
    """What is retried and how long to wait: backoff doubles from ``initial_backoff`` up to
    ``max_backoff`` with up to ``jitter`` seconds added; a server's ``Retry-After`` wins, capped
    at ``max_retry_after``. Every wait is finite: a server hint that is not a finite number
    >= 0 never gets here (``answers.classify``), and each wait is capped again below.

    Attributes:
        max_retries: Retries after the first attempt; ``ClassifyClient(max_retries=...)``
            always sets it.
        initial_backoff: Seconds before the first retry; each later wait doubles.
        max_backoff: The longest backoff, in seconds.
        jitter: Up to this many random seconds added to each backoff.
        max_retry_after: The longest a server's ``Retry-After`` may make the client wait.
        max_throttle_wait: The longest one call may wait, over all its attempts, for turns
            of the client's rate limiter (``None``: no limit); past it the call raises a
            ``RateLimitError``, not retried. Waiting for a turn is not an attempt, so neither
            ``max_retries`` nor ``timeout`` bounds it.
    """

    max_retries: int = field(default=5, validator=ge(0))
    initial_backoff: float = field(default=0.5, validator=_finite_non_negative)
    max_backoff: float = field(default=8.0, validator=_finite_non_negative)
    jitter: float = field(default=0.5, validator=_finite_non_negative)
    max_retry_after: float = field(default=60.0, validator=_finite_non_negative)
    max_throttle_wait: float | None = field(
        default=MAX_THROTTLE_WAIT, validator=_no_limit_or_finite_non_negative
    )

    async def call(
        self,
        attempt: Callable[[], Awaitable[_T]],
        deadline: Deadline | None = None,
        *,
        before_retry: Callable[[RetryCallState], None] = log_retry,
    ) -> _T:
        """``await attempt()``, retried per this policy; ``max_retries`` counts after the first.
        With a ``deadline``, no attempt or wait runs past it. ``before_retry`` is told of each
        failed attempt that will be retried (tenacity's ``before_sleep``): it logs
        (``log_retry``; the transport's ``RequestWatch.retrying``)."""
        if deadline is not None:
            attempt = partial(deadline.run, attempt)
        try:
            return await attempt()
        except Exception as exc:
            if self.max_retries == 0 or not self.is_retryable(exc):
                raise
            first_failure: Exception | None = exc

        async def replay_then_attempt() -> _T:
            nonlocal first_failure
            if first_failure is not None:
                failure, first_failure = first_failure, None
                raise failure
            return await attempt()

        return await self.retrying(deadline, before_retry)(replay_then_attempt)

    def retrying(
        self,
        deadline: Deadline | None = None,
        before_retry: Callable[[RetryCallState], None] = log_retry,
    ) -> AsyncRetrying:
        """A fresh tenacity ``AsyncRetrying`` for one request (never share one between tasks);
        with a ``deadline``, it stops when the next wait leaves no time for an attempt."""
        attempts = stop_after_attempt(self.max_retries + 1)

        def stop(state: RetryCallState) -> bool:
            # tenacity has computed the wait (``upcoming_sleep``) when it asks whether to stop.
            return attempts(state) or (
                deadline is not None and not deadline.leaves_time_after(state.upcoming_sleep)
            )

        return AsyncRetrying(
            stop=stop,
            wait=self._wait,
            retry=self._should_retry,
            before_sleep=before_retry,
            reraise=True,
        )

    @staticmethod
    def is_retryable(exc: BaseException) -> bool:
        """Whether the request that raised ``exc`` may be tried again: connection errors,
        timeouts, and statuses 408, 429, 500, 502, 503 and 504, unless ``x-should-retry`` says
        otherwise (``answers.classify`` decides)."""
        return classify(exc).retryable

    def _should_retry(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        return exc is not None and self.is_retryable(exc)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = classify(exc, max_hint=self.max_retry_after).hint
        if hint is not None:
            return hint
        backoff = wait_exponential_jitter(
            multiplier=self.initial_backoff, max=self.max_backoff, jitter=self.jitter
        )
        return min(float(backoff(state)), self.max_backoff + self.jitter)
