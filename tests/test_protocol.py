"""The sans-I/O core: response decoding, retry hints and paths, with plain values."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from aio_classify import (
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ResponseValidationError,
)
from aio_classify.protocol import decode_response, job_path, retry_after, server_says_retry


def test_decode_2xx_json() -> None:
    assert decode_response(200, {}, b'{"a": 1}', request="GET /x") == {"a": 1}
    assert decode_response(204, {}, b"", request="DELETE /x") is None


def test_decode_non_json_shows_start_of_body() -> None:
    with pytest.raises(ResponseValidationError, match=r"GET /x answered 200 .*oops"):
        decode_response(200, {}, b"oops" + b"!" * 1000, request="GET /x")


def test_decode_errors_carry_status_body_headers_and_hints() -> None:
    headers = {"retry-after": "3", "x-should-retry": "true"}
    with pytest.raises(RateLimitError) as caught:
        decode_response(429, headers, b'{"detail": "slow down"}', request="GET /x")
    error = caught.value
    assert (error.status_code, error.body, error.retry_after, error.should_retry) == (
        429,
        {"detail": "slow down"},
        3.0,
        True,
    )
    assert error.headers["retry-after"] == "3"
    assert "slow down" in str(error)
    with pytest.raises(InternalServerError):
        decode_response(599, {}, b"plain text", request="GET /x")
    with pytest.raises(NotFoundError, match="Job not found"):
        decode_response(404, {}, b'{"detail": "Job not found"}', request="GET /x")


def test_retry_after_forms() -> None:
    assert retry_after({}) is None
    assert retry_after({"retry-after": "2.5"}) == 2.5
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after({"retry-after": "soon"}) is None
    date = formatdate(1_000_030.0, usegmt=True)
    assert retry_after({"retry-after": date}, now=1_000_000.0) == pytest.approx(30.0)
    assert retry_after({"retry-after": formatdate(5.0, usegmt=True)}, now=100.0) == 0.0


def test_should_retry_header() -> None:
    assert server_says_retry({"x-should-retry": "true"}) is True
    assert server_says_retry({"x-should-retry": "False"}) is False
    assert server_says_retry({"x-should-retry": "maybe"}) is None
    assert server_says_retry({}) is None


@pytest.mark.parametrize(
    ("job_id", "path"),
    [
        ("cls-1", "/api/v2/classify/cls-1"),
        ("../x", "/api/v2/classify/..%2Fx"),
        ("a/b", "/api/v2/classify/a%2Fb"),
        ("?q", "/api/v2/classify/%3Fq"),
        ("..", "/api/v2/classify/%2E%2E"),
        ("#frag", "/api/v2/classify/%23frag"),
    ],
)
def test_job_path_keeps_the_id_one_segment(job_id: str, path: str) -> None:
    assert job_path(job_id) == path


def test_job_path_with_action() -> None:
    assert job_path("a b", "cancel") == "/api/v2/classify/a%20b/cancel"
