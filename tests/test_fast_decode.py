"""The msgspec fast path gives the very records the exact (cattrs) path gives, and refuses
whatever the exact path would refuse, so the fallback keeps every error message.

"The very records": same types all the way down (enum member or plain string, int or float,
the same time zone), not merely ``==`` (aware datetimes in different zones compare equal).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aio_classify import ClassifyClient, ClassifyError, ResponseValidationError
from aio_classify._decode.conversion import _fast_job, _fast_page, check_page, read_job, read_page
from aio_classify._decode.fast_decode import json_loads_refuses
from aio_classify._decode.strict_json import BodyNotJSONError

from helpers import serve
from odd_jobs import (
    BASE_JOB,
    SETTINGS,
    exact_job,
    exact_page,
    hostile_pages,
    identical,
    odd_jobs,
    page_body,
)


def assert_read_as_exact(body: bytes, exact: Any) -> None:
    """The page reader's outcome for ``body`` is ``exact`` (the exact path's): the same records,
    or the same error type and message."""
    try:
        outcome: Any = read_page(body)
    except (ClassifyError, BodyNotJSONError) as exc:
        outcome = exc
    if isinstance(exact, ClassifyError | BodyNotJSONError):
        assert type(outcome) is type(exact) and str(outcome) == str(exact)
    else:
        assert identical(outcome, exact)


@SETTINGS
@given(st.lists(odd_jobs(), max_size=5))
def test_fast_path_reads_every_odd_page_as_the_exact_path_does(jobs: list[dict[str, Any]]) -> None:
    body = page_body(jobs, {})
    fast = _fast_page.decode(body)
    assert fast is not None, "the fast path refused a page the client must read"
    assert identical(fast, exact_page(body))
    assert identical(read_page(body), fast)


@SETTINGS
@given(odd_jobs())
def test_fast_path_reads_every_odd_job_as_the_exact_path_does(job: dict[str, Any]) -> None:
    body = json.dumps(job).encode()
    fast = _fast_job.decode(body)
    assert fast is not None
    assert identical(fast, exact_job(body))


@SETTINGS
@given(hostile_pages())
def test_fast_path_accepts_nothing_the_exact_path_refuses_or_reads_otherwise(body: bytes) -> None:
    exact = exact_page(body)
    fast = _fast_page.decode(body)
    if fast is not None:
        assert identical(fast, exact)
    # Whatever the fast path did, the reader's outcome is the exact path's, message and all.
    assert_read_as_exact(body, exact)


@SETTINGS
@given(hostile_pages())
def test_the_shape_check_refuses_exactly_what_the_fast_path_refuses(body: bytes) -> None:
    fast = _fast_page.decode(body)
    shape = check_page(body)
    assert (shape is None) == (fast is None)
    if fast is not None:
        assert [(job.id, job.status) for job in shape.items] == [
            (job.id, str(job.status)) for job in fast.items
        ]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'"a page"',
        b'{"items": [{"id": "a", "status": "PENDING"}], "total_size": 1180591620717411303424}',
        b'{"items": [{"id": "a", "status": "PENDING", "error_message": "\\ud800"}]}',
        b'{"items": [{"id": "a", "status": "PENDING", "id": "b"}]}',
        b'{"items": [{"id": "a", "status": "PENDING", "result": {"confidence": NaN}}]}',
        b'{"items": [], "items": [{"id": "a", "status": "RUNNING"}]}',
        b'{"items": [{"id": 12345, "status": "PENDING"}]}',
        # What msgspec skips in an unknown key but json.loads refuses anywhere:
        b'{"items": [], "extra": "\xff\xfe"}',
        b'{"items": [], "extra": 1' + b"0" * 5000 + b"}",
        # ... and what looks alike but json.loads takes (the fast path may refuse: a false alarm).
        b'{"items": [], "extra": 1' + b"0" * 4299 + b"}",
        b'{"items": [], "extra": "' + b"7" * 9000 + b'", "x": "\xc3\xa9"}',
    ],
)
def test_bodies_msgspec_cannot_take_get_the_exact_paths_outcome(body: bytes) -> None:
    exact = exact_page(body)
    fast = _fast_page.decode(body)
    assert fast is None or identical(fast, exact)
    assert_read_as_exact(body, exact)


def test_the_fast_path_builds_the_public_record_classes() -> None:
    job = read_job(json.dumps(BASE_JOB).encode())
    assert (
        type(job).__name__ == "ClassifyJob" and type(job).__module__ == "aio_classify._core.models"
    )
    assert job.configuration is not None
    assert type(job.configuration).__module__ == "aio_classify._core.models"
    assert job.is_terminal and hash(job) == hash(exact_job(json.dumps(BASE_JOB).encode()))


@pytest.fixture
async def odd_server() -> AsyncIterator[str]:
    """A tiny server answering a listing page msgspec refuses (a 70-bit ``total_size``)."""

    async def page(_: web.Request) -> web.Response:
        body = b'{"items": [{"id": "a", "status": "QUEUED"}], "total_size": 1180591620717411303424}'
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/v2/classify", page)
    async with serve(app) as url:
        yield url


async def test_client_reads_a_page_the_fast_path_refuses_through_the_exact_path(
    odd_server: str,
) -> None:
    async with ClassifyClient("k", base_url=odd_server) as client:
        page = await client.list_jobs().first_page()
    assert page.total_size == 2**70
    assert [(job.id, job.status) for job in page.items] == [("a", "QUEUED")]


def test_a_page_without_items_is_refused_by_both_paths_with_the_exact_message() -> None:
    body = b'{"next_page_token": null}'
    assert _fast_page.decode(body) is None
    with pytest.raises(ResponseValidationError, match="'items' is required but missing"):
        read_page(body)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 9000),
    st.integers(0, 9000),
    st.integers(0, 9000),
    st.sampled_from([b"a", b" ", b'"']),
)
@example(0, 4301, 0, b" ")  # the limit is 4300 digits unless the interpreter was told otherwise
@example(0, 4300, 0, b" ")
@example(1, 4300, 1, b" ")
@example(4300, 4301, 0, b" ")
@example(4301, 4300, 4301, b" ")
@example(2, 4301, 8600, b" ")
def test_a_run_of_digits_json_loads_refuses_is_found_wherever_it_lies(
    before: int, run: int, after: int, filler: bytes
) -> None:
    """Exactly the bodies holding more than ``sys.get_int_max_str_digits()`` digits in a row
    are refused (for ASCII bodies: no false alarm, no miss), at any offset and length."""
    body = filler * before + b"7" * run + filler * after
    longest = sys.get_int_max_str_digits() + 1
    assert json_loads_refuses(body) == (run >= longest)


#: JSON numbers around and beyond double range (about 1.8e308; the smallest subnormal 5e-324).
big_numbers = st.builds(
    "{}{}e{}".format,
    st.sampled_from(["", "-"]),
    st.sampled_from(["1", "1.7976931348623157", "1.8", "9.99", "4.9", "0.5"]),
    st.integers(min_value=-420, max_value=420),
)


@SETTINGS
@given(number=big_numbers, where=st.sampled_from(["confidence", "unknown"]))
@example(number="1e999", where="confidence")
@example(number="-1e400", where="confidence")
def test_numbers_beyond_double_range_are_refused_like_any_wrong_value(
    number: str, where: str
) -> None:
    """``json.loads`` reads ``1e999`` as infinity, which is not JSON: in a number field it is a
    ``ResponseValidationError`` naming the field, by both paths; a record read has only finite
    numbers, so ``to_dict()`` stays JSON-safe; under an unknown key it is skipped."""
    job = json.loads(json.dumps(BASE_JOB))
    if where == "confidence":
        job["result"] = {**(job.get("result") or {}), "type": "invoice", "confidence": "@"}
    else:
        job["unknown"] = "@"
    body = page_body([job], {}).replace(b'"@"', number.encode())
    exact = exact_page(body)
    assert_read_as_exact(body, exact)
    if isinstance(exact, ClassifyError):
        assert isinstance(exact, ResponseValidationError)
        assert exact.field == "items[0].result.confidence"
        assert where == "confidence" and not math.isfinite(float(number))
    else:
        json.dumps([record.to_dict() for record in exact.items], allow_nan=False)
