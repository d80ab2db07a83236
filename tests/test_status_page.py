"""A polling round's page: each job's id and status, the whole record of each job that has
ended (the very record ``read_page`` gives), and ``read_page``'s own error, message and all, for
any page ``read_page`` refuses, whether the broken record is of a job running or ended."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from aio_classify import ClassifyClient, ClassifyError, ClassifyJob, ResponseValidationError
from aio_classify._decode.status_page import StatusPage, read_status_page
from aio_classify._decode.strict_json import BodyNotJSONError

from helpers import SCRIPTED_KEY, answers, job, scripted
from odd_jobs import (
    SETTINGS,
    exact_page,
    hostile_pages,
    identical,
    odd_jobs,
    page_body,
)


def outcome(body: bytes) -> Any:
    try:
        return read_status_page(body)
    except (ClassifyError, BodyNotJSONError) as exc:
        return exc


def assert_read_as_exact(page: StatusPage, exact: Any) -> None:
    """``page`` holds what ``exact`` (the exact path's page) holds: the same ids and statuses,
    in order, and the very records of the jobs that ended."""
    assert page.next_page_token == exact.next_page_token
    assert [(seen.id, seen.status) for seen in page.items] == [
        (record.id, record.status) for record in exact.items
    ]
    for seen, record in zip(page.items, exact.items, strict=True):
        if record.is_terminal:
            assert identical(seen, record)
        else:
            assert type(seen) is not ClassifyJob  # no record built for a job still running


@SETTINGS
@given(st.lists(odd_jobs(), max_size=6))
def test_every_odd_page_reads_as_the_exact_page_does(jobs: list[dict[str, Any]]) -> None:
    body = page_body(jobs, {})
    assert_read_as_exact(read_status_page(body), exact_page(body))


@SETTINGS
@given(hostile_pages())
def test_a_hostile_page_gets_the_exact_pages_records_or_its_error(body: bytes) -> None:
    exact = exact_page(body)
    page = outcome(body)
    if isinstance(exact, ClassifyError | BodyNotJSONError):
        assert type(page) is type(exact) and str(page) == str(exact)
    else:
        assert_read_as_exact(page, exact)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"items": {}}',
        b'{"items": [{"id": "a", "status": null}]}',
        b'{"items": [{"id": 7, "status": "RUNNING"}]}',
        b'{"items": [{"id": "\\ud800", "status": "RUNNING"}]}',
        b'{"items": [{"status": "RUNNING"}]}',
        b'{"items": [], "next_page_token": 5}',
        b'{"items": [], "extra": "\xff\xfe"}',
        b'{"items": [{"id": "a", "status": "COMPLETED", "created_at": "yesterday"}]}',
        b'{"items": [{"id": "a", "status": "RUNNING", "created_at": "yesterday"}]}',
        b'{"items": [{"id": "a", "status": "RUNNING", "created_at": 17}]}',
        b'{"items": [{"id": "a", "status": "PENDING", "result": {"confidence": "high"}}]}',
        b'{"items": [{"id": "a", "status": "PENDING", "configuration": {"mode": "FAST"}}]}',
    ],
)
def test_what_a_round_cannot_read_raises_the_exact_error(body: bytes) -> None:
    exact = exact_page(body)
    assert isinstance(exact, ClassifyError | BodyNotJSONError)
    page = outcome(body)
    assert type(page) is type(exact) and str(page) == str(exact)


def test_a_page_msgspec_refuses_but_the_exact_path_reads_is_read_exactly() -> None:
    body = b'{"items": [{"id": "a", "status": "FAILED"}, {"id": "b", "status": "QUEUED"}], '
    body += b'"total_size": 1180591620717411303424}'
    page = read_status_page(body)
    assert type(page.items[0]) is ClassifyJob and page.items[0].status == "FAILED"
    assert type(page.items[1]) is not ClassifyJob
    assert (page.items[1].id, page.items[1].status) == ("b", "QUEUED")


async def test_watch_raises_the_listings_error_for_a_broken_record_of_a_running_job() -> None:
    broken = job("cls-1", "RUNNING", created_at="not a date")
    handler = answers(lambda: web.json_response({"items": [broken]}))
    async with scripted(handler) as server, ClassifyClient(SCRIPTED_KEY, base_url=server.url) as c:
        with pytest.raises(ResponseValidationError) as watched:
            async for _ in c.watch_jobs(["cls-1"], poll_interval=0.01, timeout=10):
                pass
        with pytest.raises(ResponseValidationError) as listed:
            await c.list_jobs().first_page()
    assert watched.value.field == listed.value.field == "items[0].created_at"
    assert str(watched.value) == str(listed.value)


async def test_wait_raises_the_listings_error_for_a_broken_record_of_an_ended_job() -> None:
    broken = job("cls-1", "COMPLETED", created_at="not a date")
    handler = answers(lambda: web.json_response({"items": [broken]}))
    async with scripted(handler) as server, ClassifyClient(SCRIPTED_KEY, base_url=server.url) as c:
        with pytest.raises(ResponseValidationError) as waited:
            await c.wait_for_jobs(["cls-1"], poll_interval=0.01, timeout=10)
        with pytest.raises(ResponseValidationError) as listed:
            await c.list_jobs().first_page()
    assert waited.value.field == listed.value.field == "items[0].created_at"
    assert str(waited.value) == str(listed.value)
