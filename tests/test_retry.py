"""No wait is unbounded: a server hint that is not a finite number >= 0 is ignored, the policy's
own numbers must be finite, and every wait is capped."""

from __future__ import annotations

import math

import pytest
from tenacity import RetryCallState

from aio_classify import InternalServerError, RetryPolicy
from aio_classify._http.protocol import retry_after


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "nan"},
        {"retry-after": "NaN"},
        {"retry-after": "inf"},
        {"retry-after": "-inf"},
        {"retry-after": "-5"},
        {"retry-after": "1e999"},
        {"retry-after": "soon"},
        {"retry-after-ms": "nan"},
        {"retry-after-ms": "-100"},
        {"retry-after-ms": "infinity"},
        {"retry-after": "Mon, 99 Foo 99999 99:99:99 GMT"},
    ],
)
def test_a_hint_that_is_not_a_finite_non_negative_number_is_ignored(
    headers: dict[str, str],
) -> None:
    assert retry_after(headers) is None


def test_a_finite_hint_is_read() -> None:
    assert retry_after({"retry-after": "2.5"}) == 2.5
    assert retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # past: now


@pytest.mark.parametrize("name", ["initial_backoff", "max_backoff", "jitter", "max_retry_after"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0])
def test_the_policy_refuses_numbers_that_are_not_finite(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        RetryPolicy(**{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("hint", [math.nan, math.inf, -3.0, 1e9])
def test_a_wait_is_finite_and_capped_even_for_a_hint_set_by_hand(hint: float) -> None:
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=8.0, jitter=0.5, max_retry_after=60.0)
    error = InternalServerError("x", status_code=503, body=None, headers={}, retry_after=hint)
    retrying = policy.retrying()
    state = RetryCallState(retrying, fn=None, args=(), kwargs={})
    state.set_exception((type(error), error, None))
    wait = policy._wait(state)
    assert math.isfinite(wait) and 0 <= wait <= 60.0
