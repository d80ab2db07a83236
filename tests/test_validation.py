"""The argument checks with plain values: the TypeError / ValueError rule, and messages that
name the argument the caller passed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aio_classify import ClassifyClient, ClassifyConfiguration, ClassifyRule, JobStatus, RetryPolicy
from aio_classify._validation import (
    check_api_key,
    check_base_url,
    check_configuration,
    check_given_ids,
    check_int,
    check_iterable,
    check_poll_timing,
    check_rate_limit,
    check_seconds,
    check_session,
    check_status,
    check_str_list,
    check_text,
    iso_datetime,
)
from aio_classify.webhooks import WebhookReceiver


@pytest.mark.parametrize(
    ("check", "value", "error", "message"),
    [
        (lambda v: check_text(v, "file_input"), 5, TypeError, "file_input must be a str, not int"),
        (lambda v: check_text(v, "file_input"), "", ValueError, "file_input must not be empty"),
        (lambda v: check_int(v, "limit", low=1), 1.0, TypeError, "limit must be an int"),
        (lambda v: check_int(v, "limit", low=1), True, TypeError, "limit must be an int"),
        (lambda v: check_int(v, "limit", low=1), 0, ValueError, "limit must be at least 1"),
        (lambda v: check_int(v, "n", low=1, high=3), 4, ValueError, "n must be between 1 and 3"),
        (lambda v: check_seconds(v, "timeout"), "1", TypeError, "timeout must be a number"),
        (lambda v: check_seconds(v, "timeout"), float("nan"), ValueError, "timeout must be"),
        (lambda v: check_seconds(v, "timeout"), float("inf"), ValueError, "timeout must be"),
        (lambda v: check_seconds(v, "timeout"), 0, ValueError, "timeout must be"),
        (check_status, 3, TypeError, "status must be a JobStatus or str"),
        (check_status, "DONE", ValueError, "status must be one of PENDING"),
        (lambda v: iso_datetime(v, "since"), 12, TypeError, "since must be a datetime"),
        (lambda v: iso_datetime(v, "since"), "soon", ValueError, "since must be an ISO 8601"),
        (check_api_key, None, ValueError, "no API key"),
        (check_api_key, 5, TypeError, "api_key must be a str"),
        (check_session, object(), TypeError, "session must be an aiohttp.ClientSession"),
        (check_base_url, "ftp://example.com", ValueError, "base_url must be an http"),
        (check_base_url, "http://example.com", ValueError, "base_url 'http://example.com' uses"),
    ],
)
def test_wrong_type_is_type_error_and_bad_value_is_value_error(
    check: Any, value: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        check(value)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("name", ["job_ids", "webhook_configuration_ids"])
def test_iterables_of_ids_name_the_argument_passed(name: str) -> None:
    with pytest.raises(TypeError, match=f"^{name} must be an iterable of str, not a single str"):
        check_str_list("wh", name)
    with pytest.raises(TypeError, match=f"^{name} must be an iterable or async iterable"):
        check_iterable(5, name)
    with pytest.raises(TypeError, match=f"^{name} item must be a str, not int"):
        check_str_list(["a", 1], name)
    with pytest.raises(ValueError, match=f"^{name} item must not be empty"):
        check_str_list(["a", ""], name)
    assert check_str_list(iter(["a", "b"]), name) == ["a", "b"]
    assert check_str_list(None, name) is None


def test_ids_in_memory_are_checked_at_once_and_iterators_later() -> None:
    with pytest.raises(ValueError, match=r"^job_ids item must not be empty"):
        check_given_ids(["a", ""])
    check_given_ids(iter(["a", ""]))  # read lazily: checked as each id is read


def test_good_values_come_back_in_the_form_the_client_uses() -> None:
    assert check_status("FAILED") is JobStatus.FAILED
    assert check_seconds(2, "timeout") == 2.0
    naive, paris = datetime(2026, 1, 31, 12), timezone(timedelta(hours=1))
    assert iso_datetime(naive, "d") == "2026-01-31T12:00:00+00:00"
    aware = datetime(2026, 1, 31, 13, tzinfo=paris)
    assert iso_datetime(aware, "d") == "2026-01-31T13:00:00+01:00"  # an offset is kept
    assert iso_datetime("2026-01-31", "d") == "2026-01-31T00:00:00+00:00"
    assert str(check_base_url("http://127.0.0.1:8787/?x=1#f")) == "http://127.0.0.1:8787/"
    assert check_session(None) is None
    assert check_poll_timing(1, 5, 60) == (1.0, 5.0, 60.0)


async def test_a_session_of_the_callers_passes() -> None:
    async with aiohttp.ClientSession() as session:
        assert check_session(session) is session


def test_poll_interval_may_only_grow() -> None:
    with pytest.raises(ValueError, match=r"^max_interval \(1.0\) must not be below poll_interval"):
        check_poll_timing(2, 1, 60)


def test_configuration_errors_name_the_rule_field() -> None:
    short = ClassifyConfiguration(rules=[ClassifyRule(type="invoice", description="short")])
    with pytest.raises(ValueError, match=r"^configuration\.rules\[0\]\.description must be"):
        check_configuration(short, None)
    with pytest.raises(TypeError, match=r"^configuration_id must be a str"):
        check_configuration(None, 5)
    with pytest.raises(ValueError, match="not both"):
        check_configuration(short, "cfg-1")
    assert check_configuration(None, "cfg-1") == (None, "cfg-1")


@pytest.mark.parametrize(
    ("rate_limit", "error", "words"),
    [
        (0, ValueError, "rate_limit must be a finite number of requests per second above 0"),
        (-5.0, ValueError, "rate_limit must be"),
        (float("inf"), ValueError, "rate_limit must be"),
        (float("nan"), ValueError, "rate_limit must be"),
        ("10", TypeError, "rate_limit must be a number of requests per second"),
        (True, TypeError, "rate_limit must be a number"),
        ([10], TypeError, "rate_limit must be a number"),
        ({"creates": 10}, ValueError, "rate_limit has an unknown call kind 'creates'"),
        ({"create": 0}, ValueError, r"rate_limit\['create'\] must be"),
        ({"list": None}, TypeError, r"rate_limit\['list'\] must be a number"),
    ],
)
def test_rate_limits_name_the_argument(rate_limit: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        check_rate_limit(rate_limit)


def test_a_rate_limit_caps_every_call_kind_or_those_named() -> None:
    assert check_rate_limit(None) == {}
    assert check_rate_limit(2) == dict.fromkeys(["list", "get", "create", "cancel", "delete"], 2.0)
    assert check_rate_limit({"create": 10, "list": 0.5}) == {"create": 10.0, "list": 0.5}


#: Numbers a float cannot hold, or holds only as an infinity: every one is a ValueError.
beyond_double = st.one_of(
    st.integers(min_value=309, max_value=2000).map(lambda exponent: 10**exponent),
    st.integers(min_value=309, max_value=2000).map(lambda exponent: -(10**exponent)),
    st.sampled_from([float("inf"), float("-inf"), float("nan")]),
)


@settings(max_examples=40)
@given(
    number=beyond_double,
    argument=st.sampled_from(
        [
            "rate_limit",
            "rate_limit_kind",
            "timeout",
            "initial_backoff",
            "max_backoff",
            "jitter",
            "max_retry_after",
            "tolerance",
            "body_timeout",
        ]
    ),
)
def test_numbers_beyond_double_range_are_value_errors(number: float, argument: str) -> None:
    """Never an ``OverflowError`` from ``float(10**400)``: out of range like any bad value."""
    makers: dict[str, Callable[[], object]] = {
        "rate_limit": lambda: ClassifyClient("k" * 20, rate_limit=number),
        "rate_limit_kind": lambda: ClassifyClient("k" * 20, rate_limit={"get": number}),
        "timeout": lambda: ClassifyClient("k" * 20, timeout=number),
        "tolerance": lambda: WebhookReceiver(secret="s", tolerance=number),
        "body_timeout": lambda: WebhookReceiver(secret="s", body_timeout=number),
    }
    make = makers.get(argument, lambda: RetryPolicy(**{argument: number}))
    with pytest.raises(ValueError, match=argument.removesuffix("_kind")):
        make()
