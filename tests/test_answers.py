"""What an answer means, decided once (``aio_classify._http.answers``), with plain values in and
out: throttle or not, retryable or not, and the server's hint, checked and capped."""

from __future__ import annotations

import asyncio
import math

import pytest

from aio_classify import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
    ResponseValidationError,
)
from aio_classify._http.answers import Answer, Outcome, classify, classify_status


@pytest.mark.parametrize(
    ("status", "outcome", "retryable"),
    [
        (200, Outcome.SUCCESS, False),
        (400, Outcome.SUCCESS, False),
        (404, Outcome.SUCCESS, False),
        (408, Outcome.SUCCESS, True),
        (429, Outcome.THROTTLED, True),
        (500, Outcome.INCONCLUSIVE, True),
        (501, Outcome.INCONCLUSIVE, False),
        (503, Outcome.INCONCLUSIVE, True),
        (504, Outcome.INCONCLUSIVE, True),
    ],
)
def test_a_status_says_throttle_and_retry(status: int, outcome: Outcome, retryable: bool) -> None:
    assert classify_status(status) == Answer(outcome, retryable, None)


@pytest.mark.parametrize(("status", "says"), [(429, False), (400, True), (503, False)])
def test_x_should_retry_overrides_the_status_but_not_the_rate_signal(
    status: int, says: bool
) -> None:
    answer = classify_status(status, should_retry=says)
    assert answer.retryable is says
    assert answer.outcome is classify_status(status).outcome


@pytest.mark.parametrize("hint", [math.nan, math.inf, -math.inf, -0.5])
def test_a_hint_that_is_not_a_finite_number_at_least_zero_is_dropped(hint: float) -> None:
    assert classify_status(429, retry_after=hint).hint is None


def test_a_hint_is_capped_and_kept_when_finite() -> None:
    assert classify_status(503, retry_after=2.5).hint == 2.5
    assert classify_status(503, retry_after=0.0).hint == 0.0
    assert classify_status(429, retry_after=1e9, max_hint=60.0).hint == 60.0


def test_only_a_throttle_passes_its_hint_to_the_limiter() -> None:
    assert classify_status(429, retry_after=0.25).throttle_hint == 0.25
    assert classify_status(503, retry_after=3.0).throttle_hint is None


def status_error(cls: type[APIStatusError], status: int) -> APIStatusError:
    return cls("x", status_code=status, body=None, headers={}, retry_after=7.0, should_retry=None)


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (None, Answer(Outcome.SUCCESS, False, None)),
        (status_error(RateLimitError, 429), Answer(Outcome.THROTTLED, True, 5.0)),
        (status_error(InternalServerError, 502), Answer(Outcome.INCONCLUSIVE, True, 5.0)),
        (status_error(BadRequestError, 400), Answer(Outcome.SUCCESS, False, 5.0)),
        (APIConnectionError("refused"), Answer(Outcome.INCONCLUSIVE, True, None)),
        (APITimeoutError("slow"), Answer(Outcome.INCONCLUSIVE, True, None)),
        (ResponseValidationError("not JSON"), Answer(Outcome.INCONCLUSIVE, False, None)),
        (asyncio.CancelledError(), Answer(Outcome.INCONCLUSIVE, False, None)),
    ],
)
def test_how_a_request_ended_is_classified(failure: BaseException | None, expected: Answer) -> None:
    assert classify(failure, max_hint=5.0) == expected
