"""A polling round's page: each job's id and status, the whole record of each job that has
ended (the very record ``read_page`` gives), and ``read_page``'s own error for a page it cannot
read; a bad field of a job still running is not read, so not an error, until the job ends."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from aio_classify import ClassifyClient, ClassifyError, ClassifyJob, ResponseValidationError
from aio_classify.models import TERMINAL_STATUSES
from aio_classify.protocol import BodyNotJSONError
from aio_classify.status_page import Running, StatusPage, read_status_page

from helpers import SCRIPTED_KEY, answers, job, scripted
from odd_jobs import (
    SETTINGS,
    exact_job,
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


def assert_matches_item(seen: ClassifyJob | Running, item: dict[str, Any]) -> None:
    """``seen`` is what a round must make of ``item``: its record if it ended, else its id and
    status alone."""
    if item["status"] in TERMINAL_STATUSES:
        assert type(seen) is ClassifyJob
        assert identical(seen, exact_job(json.dumps(item).encode()))
    else:
        assert seen == Running(item["id"], item["status"])


@SETTINGS
@given(st.lists(odd_jobs(), max_size=6))
def test_every_odd_page_reads_as_the_exact_page_does(jobs: list[dict[str, Any]]) -> None:
    body = page_body(jobs, {})
    page = read_status_page(body)
    exact = exact_page(body)
    assert page.next_page_token == exact.next_page_token == "t"
    assert [(seen.id, seen.status) for seen in page.items] == [
        (record.id, record.status) for record in exact.items
    ]
    for seen, record in zip(page.items, exact.items, strict=True):
        if record.is_terminal:
            assert identical(seen, record)
        else:
            assert type(seen) is Running


@SETTINGS
@given(hostile_pages())
def test_a_hostile_page_gets_the_exact_error_unless_only_a_running_job_is_broken(
    body: bytes,
) -> None:
    exact = exact_page(body)
    page = outcome(body)
    if isinstance(exact, ClassifyError | BodyNotJSONError) and isinstance(page, StatusPage):
        # Tolerated only where the exact path stumbled on a job still running: every item has
        # a text id and status, every ended one reads exactly, and the page itself is sound.
        assert isinstance(exact, ResponseValidationError) and exact.field
        assert exact.field.startswith("items[")
        items = json.loads(body)["items"]
        broken = items[int(exact.field[len("items[") :].split("]")[0])]
        assert broken["status"] not in TERMINAL_STATUSES
        for seen, item in zip(page.items, items, strict=True):
            assert_matches_item(seen, item)
    elif isinstance(exact, ClassifyError | BodyNotJSONError):
        assert type(page) is type(exact) and str(page) == str(exact)
    else:
        assert isinstance(page, StatusPage)
        for seen, record in zip(page.items, exact.items, strict=True):
            assert identical(seen, record) if record.is_terminal else seen.id == record.id


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
    assert [type(seen) for seen in page.items] == [ClassifyJob, Running]
    assert page.items[1] == Running("b", "QUEUED")


async def test_watch_outlasts_a_broken_record_of_a_running_job_and_yields_it_once_ended() -> None:
    broken = job("cls-1", "RUNNING", created_at="not a date", usage="none")
    ended = job("cls-1", "COMPLETED", created_at="2026-03-01T10:00:00Z")
    handler = answers(
        lambda: web.json_response({"items": [broken]}),
        lambda: web.json_response({"items": [ended]}),
    )
    async with scripted(handler) as server, ClassifyClient(SCRIPTED_KEY, base_url=server.url) as c:
        jobs = [seen async for seen in c.watch_jobs(["cls-1"], poll_interval=0.01, timeout=10)]
    assert [(seen.id, seen.status, seen.created_at.year) for seen in jobs] == [
        ("cls-1", "COMPLETED", 2026)
    ]
    assert len(server.requests) == 2


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
