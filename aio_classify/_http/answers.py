"""What an answer means, decided once: a throttle, a retryable failure, or neither, and how long
the server asks us to wait.

Why: the retry policy (may this request go again, and after how long?) and the limiter (what does
this answer say about the server's rate?) both read the same answer. Deciding it in each of them
let the two drift apart; here one pure function turns an answer into a frozen ``Answer`` that both
consume (botocore's ``retries/standard.py`` feeds its retry and its adaptive limiter the same way).
Nothing here touches the network or the clock, so every rule is testable with plain values.
"""

from __future__ import annotations

import enum
import math

from attrs import frozen

from .._core.errors import APIConnectionError, APIStatusError

__all__ = ["RETRYABLE_STATUSES", "Answer", "Outcome", "classify", "classify_status"]

#: Statuses worth another try unless the server's ``x-should-retry`` says otherwise.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class Outcome(enum.Enum):
    """What an answer says about the server's rate (what a limiter learns from it)."""

    #: The server answered and did not throttle (2xx, or a 4xx other than 429).
    SUCCESS = "success"
    #: The server answered 429 Too Many Requests.
    THROTTLED = "throttled"
    #: No answer (connection error, timeout, cancelled) or a 5xx: nothing learned about the rate.
    INCONCLUSIVE = "inconclusive"


@frozen
class Answer:
    """One answer, classified.

    Attributes:
        outcome: What the answer says about the server's rate.
        retryable: Whether the request may be sent again.
        hint: Seconds the server asked us to wait (``Retry-After`` / ``retry-after-ms``): always
            finite, >= 0 and within the cap ``classify`` was given; ``None`` when it sent none
            that is usable.
    """

    outcome: Outcome
    retryable: bool
    hint: float | None = None

    @property
    def throttle_hint(self) -> float | None:
        """The hint, when the answer was a throttle: only a 429's hint says anything about the
        server's rate (a 503's ``Retry-After`` only delays the request it came with)."""
        return self.hint if self.outcome is Outcome.THROTTLED else None


_SUCCEEDED = Answer(Outcome.SUCCESS, retryable=False)
_NO_ANSWER = Answer(Outcome.INCONCLUSIVE, retryable=True)
_UNUSABLE = Answer(Outcome.INCONCLUSIVE, retryable=False)


def classify_status(
    status: int,
    *,
    retry_after: float | None = None,
    should_retry: bool | None = None,
    max_hint: float = math.inf,
) -> Answer:
    """An HTTP answer with ``status`` and the server's hints (as ``protocol.retry_after`` and
    ``protocol.server_says_retry`` read them from its headers), classified; a hint is dropped
    unless it is a finite number >= 0, and capped at ``max_hint``."""
    if status == 429:
        outcome = Outcome.THROTTLED
    elif status < 500:
        outcome = Outcome.SUCCESS
    else:
        outcome = Outcome.INCONCLUSIVE
    retryable = status in RETRYABLE_STATUSES if should_retry is None else should_retry
    return Answer(outcome, retryable, _usable_hint(retry_after, max_hint))


def classify(failure: BaseException | None, *, max_hint: float = math.inf) -> Answer:
    """How a request ended, classified: ``None`` (it succeeded), an ``APIStatusError`` (per
    ``classify_status``), an ``APIConnectionError`` or timeout (no answer: retryable), or
    anything else (a body we cannot use, a cancellation: neither retried nor learned from)."""
    if failure is None:
        return _SUCCEEDED
    if isinstance(failure, APIStatusError):
        return classify_status(
            failure.status_code,
            retry_after=failure.retry_after,
            should_retry=failure.should_retry,
            max_hint=max_hint,
        )
    if isinstance(failure, APIConnectionError):
        return _NO_ANSWER
    return _UNUSABLE


def _usable_hint(seconds: float | None, cap: float) -> float | None:
    """``asyncio.sleep(nan)`` never returns, and NaN passes both ``max`` and ``min``, so a hint
    that is not a finite number >= 0 must go no further."""
    if seconds is None or not (math.isfinite(seconds) and seconds >= 0):
        return None
    return min(seconds, cap)
