"""The sans-I/O core with plain values: paths and queries, response decoding, retry hints."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from aio_classify import (
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ResponseValidationError,
)
from aio_classify._http.protocol import (
    CLIENT_QUERY_NAMES,
    decode_response,
    job_path,
    list_query,
    page_query,
    retry_after,
    scope_query,
    server_says_retry,
)


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


# -- the request half: paths and queries ----------------------------------------------------


def test_scope_query_leaves_out_what_is_not_set() -> None:
    assert scope_query("prj-1", "org-1") == [("organization_id", "org-1"), ("project_id", "prj-1")]
    assert scope_query(None, "") == []


def test_list_query_keeps_scope_first_and_repeats_job_ids() -> None:
    query = list_query(
        [("project_id", "prj-1")],
        status="FAILED",
        configuration_id="cfg-1",
        created_at_on_or_after="2026-01-01T00:00:00+00:00",
        created_at_on_or_before="2026-01-31T00:00:00+00:00",
        page_size=50,
        job_ids=["a", "b"],
    )
    assert query == [
        ("project_id", "prj-1"),
        ("status", "FAILED"),
        ("configuration_id", "cfg-1"),
        ("created_at_on_or_after", "2026-01-01T00:00:00+00:00"),
        ("created_at_on_or_before", "2026-01-31T00:00:00+00:00"),
        ("page_size", "50"),
        ("job_ids", "a"),
        ("job_ids", "b"),
    ]
    assert list_query([]) == []


def test_page_query_adds_the_token_only_after_the_first_page() -> None:
    query = [("status", "FAILED")]
    assert page_query(query, None) == query
    assert page_query(query, "tok") == [("status", "FAILED"), ("page_token", "tok")]
    assert query == [("status", "FAILED")]  # the listing's own query is left as it was


def test_every_parameter_the_client_sends_is_reserved_from_extra_query() -> None:
    sent = [
        *list_query(
            scope_query("prj", "org"),
            status="FAILED",
            configuration_id="cfg",
            created_at_on_or_after="a",
            created_at_on_or_before="b",
            page_size=5,
            job_ids=["j"],
        ),
        *page_query([], "tok"),
        ("expand", "usage"),  # get_job's
    ]
    assert {name for name, _ in sent} == CLIENT_QUERY_NAMES


def test_a_status_error_carries_the_request_id_and_ends_its_message_with_it() -> None:
    with pytest.raises(NotFoundError) as caught:
        decode_response(
            404, {"x-request-id": "req_abc"}, b'{"detail": "Job not found"}', request="GET /x"
        )
    assert caught.value.request_id == "req_abc"
    assert str(caught.value) == "GET /x answered 404: Job not found (request id req_abc)"


def test_no_request_id_is_none_and_leaves_the_message_alone() -> None:
    with pytest.raises(NotFoundError) as caught:
        decode_response(404, {}, b'{"detail": "Job not found"}', request="GET /x")
    assert caught.value.request_id is None
    assert str(caught.value) == "GET /x answered 404: Job not found"


def test_a_hostile_request_id_is_escaped_and_clipped_in_the_message() -> None:
    hostile = "\x1b[31mreq\r\nFAKE LOG LINE" + "z" * 5000
    with pytest.raises(InternalServerError) as caught:
        decode_response(500, {"x-request-id": hostile}, b"{}", request="GET /x")
    message = str(caught.value)
    assert "\x1b" not in message and "\r" not in message and "\n" not in message
    assert "\\x1b[31mreq\\r\\nFAKE" in message and len(message) < 300
    assert caught.value.request_id == hostile  # the full value stays on the attribute
