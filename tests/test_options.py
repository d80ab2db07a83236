"""Per-call options (``ClassifyClient.with_options``), ``total_timeout``, headers and query
parameters added to every request, and our ``User-Agent``: against the fake over loopback, or a
scripted server where an exact sequence of answers is needed."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aio_classify import (
    APITimeoutError,
    ClassifyClient,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    __version__,
)
from aio_classify.testing import FakeClassifyServer

from helpers import API_KEY, FAST_RETRIES, SCRIPTED_KEY, answers, job, json_body, scripted

PARENT_PROJECT = "11111111-1111-4111-8111-111111111111"
VIEW_PROJECT = "22222222-2222-4222-8222-222222222222"


def client_for(server: FakeClassifyServer, **options: Any) -> ClassifyClient:
    return ClassifyClient(API_KEY, base_url=server.url, retry_policy=FAST_RETRIES, **options)


# -- with_options: a cheap view over the same connections -------------------------------------


async def test_a_view_shares_the_parents_sessions_and_limiters(
    server: FakeClassifyServer,
) -> None:
    (job_id,) = server.seed_jobs(1)
    async with client_for(server) as client:
        view = client.with_options(timeout=2.0).with_options(max_retries=0)
        assert (await view.get_job(job_id)).id == job_id
        assert (await client.get_job(job_id)).id == job_id
        parent, child = client._transport, view._transport
        assert await child._get_session() is await parent._get_session()
        assert child._sessions is parent._sessions and child._limiters is parent._limiters
        assert len(parent._sessions._by_loop) == 1  # one session for the parent and its views


async def test_closing_a_view_leaves_the_parent_and_its_session_open(
    server: FakeClassifyServer,
) -> None:
    (job_id,) = server.seed_jobs(1)
    async with client_for(server) as client:
        async with client.with_options(total_timeout=5.0) as view:
            await view.get_job(job_id)
        session = await client._transport._get_session()
        assert view.closed and not client.closed and not session.closed
        assert (await client.get_job(job_id)).id == job_id  # the parent keeps working
        with pytest.raises(RuntimeError, match="closed"):
            await view.get_job(job_id)
        other = client.with_options(timeout=3.0)
    assert client.closed and other.closed and session.closed  # the parent's close is everyone's


async def test_a_view_changes_only_the_options_given_and_views_of_views_keep_the_rest(
    server: FakeClassifyServer,
) -> None:
    (job_id,) = server.seed_jobs(1, project_id=VIEW_PROJECT)
    async with client_for(
        server, project_id=PARENT_PROJECT, default_headers={"X-App": "a"}
    ) as client:
        tenant = client.with_options(extra_headers={"X-Tenant": "t1"}, extra_query={"f": "1"})
        scoped = tenant.with_options(project_id=VIEW_PROJECT)
        await scoped.get_job(job_id)
        await client.list_jobs().first_page()
    view_request, parent_request = server.requests
    assert ("project_id", VIEW_PROJECT) in view_request.query and ("f", "1") in view_request.query
    assert view_request.headers["X-Tenant"] == "t1" and view_request.headers["X-App"] == "a"
    assert ("project_id", PARENT_PROJECT) in parent_request.query
    assert ("f", "1") not in parent_request.query and "X-Tenant" not in parent_request.headers
    assert parent_request.headers["X-App"] == "a"
    assert client.project_id == PARENT_PROJECT and scoped.project_id == VIEW_PROJECT


async def test_an_option_given_replaces_the_views_own(server: FakeClassifyServer) -> None:
    server.seed_jobs(1)
    async with client_for(server) as client:
        tagged = client.with_options(extra_headers={"X-Tenant": "t1"})
        await tagged.with_options(extra_headers={}).list_jobs().first_page()
    assert "X-Tenant" not in server.requests[0].headers


async def test_a_views_retry_count_and_timeout_apply_to_its_calls_only(
    server: FakeClassifyServer,
) -> None:
    (job_id,) = server.seed_jobs(1)
    async with client_for(server, max_retries=3) as client:
        server.fail_next(503, count=2)
        with pytest.raises(Exception, match="503"):
            await client.with_options(max_retries=0).get_job(job_id)
        assert len(server.requests) == 1
        assert (await client.get_job(job_id)).id == job_id  # 503 once more, then the job
        assert len(server.requests) == 3
        server.latency = 1.0
        with pytest.raises(APITimeoutError):
            await client.with_options(timeout=0.05, max_retries=0).get_job(job_id)


async def test_retry_policy_sets_the_timing_and_keeps_the_views_retry_count(
    server: FakeClassifyServer,
) -> None:
    (job_id,) = server.seed_jobs(1)
    async with client_for(server, max_retries=0) as client:
        patient = client.with_options(retry_policy=RetryPolicy(initial_backoff=0.001, jitter=0))
        server.fail_next(503)
        with pytest.raises(Exception, match="503"):
            await patient.get_job(job_id)  # still max_retries=0: one request
        assert len(server.requests) == 1


def test_unknown_option_names_are_a_type_error_naming_them() -> None:
    client = ClassifyClient(API_KEY, base_url="http://127.0.0.1:1")
    with pytest.raises(TypeError, match="'retries', 'timout'"):
        client.with_options(timout=1.0, retries=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'max_connections'"):
        client.with_options(max_connections=3)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("option", "value", "error", "words"),
    [
        ("timeout", -1.0, ValueError, "timeout"),
        ("timeout", "1", TypeError, "timeout"),
        ("max_retries", -1, ValueError, "max_retries"),
        ("retry_policy", "fast", TypeError, "retry_policy"),
        ("total_timeout", -1.0, ValueError, "total_timeout"),
        ("total_timeout", 0.0, ValueError, "total_timeout"),
        ("total_timeout", math.nan, ValueError, "total_timeout"),
        ("total_timeout", math.inf, ValueError, "total_timeout"),
        ("total_timeout", True, TypeError, "total_timeout"),
        ("extra_headers", {"Authorization": "Bearer other"}, ValueError, "'Authorization'"),
        ("extra_headers", {"authoRIZATION": "x"}, ValueError, "'authoRIZATION'"),
        ("extra_headers", {"X-A": 1}, TypeError, "extra_headers"),
        ("extra_headers", {b"X-A": "1"}, TypeError, "extra_headers"),
        ("extra_headers", {"X-A": "1\r\nX-Injected: 1"}, ValueError, "control character"),
        ("extra_headers", {"X-A\r\nX-B": "1"}, ValueError, "not an HTTP token"),
        ("extra_headers", [("X-A", "1")], TypeError, "mapping"),
        ("extra_query", {"project_id": "other"}, ValueError, "'project_id'"),
        ("extra_query", {"page_token": "t"}, ValueError, "'page_token'"),
        ("extra_query", {"f": 1}, TypeError, "extra_query"),
        ("project_id", 5, TypeError, "project_id"),
    ],
)
def test_bad_values_are_refused_as_the_constructor_refuses_them(
    option: str, value: object, error: type[Exception], words: str
) -> None:
    client = ClassifyClient(API_KEY, base_url="http://127.0.0.1:1")
    with pytest.raises(error, match=words):
        client.with_options(**{option: value})  # type: ignore[arg-type]
    if option not in {"project_id", "extra_headers", "extra_query"}:
        with pytest.raises(error, match=words):
            ClassifyClient(API_KEY, base_url="http://127.0.0.1:1", **{option: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("headers", "error", "words"),
    [
        ({"AUTHORIZATION": "Basic x"}, ValueError, "'AUTHORIZATION'"),
        ({"X-A": None}, TypeError, "default_headers"),
        ({"X-A": "\n"}, ValueError, "control character"),
        ("X-A: 1", TypeError, "default_headers"),
    ],
)
def test_default_headers_are_checked(headers: object, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        ClassifyClient(API_KEY, base_url="http://127.0.0.1:1", default_headers=headers)  # type: ignore[arg-type]


# -- headers and our User-Agent --------------------------------------------------------------


async def test_every_request_carries_our_user_agent(server: FakeClassifyServer) -> None:
    server.seed_jobs(1)
    async with client_for(server) as client:
        await client.list_jobs().first_page()
    agent = server.requests[0].headers["User-Agent"]
    assert agent.startswith(f"aio-classify/{__version__} aiohttp/{aiohttp.__version__} Python/")


async def test_default_headers_may_set_the_user_agent(server: FakeClassifyServer) -> None:
    server.seed_jobs(1)
    async with client_for(server, default_headers={"user-agent": "my-app/1.0"}) as client:
        await client.with_options(extra_headers={"X-Trace": "1"}).list_jobs().first_page()
    (request,) = server.requests
    assert request.headers["User-Agent"] == "my-app/1.0" and request.headers["X-Trace"] == "1"
    assert request.authorized  # the key is still ours


# -- total_timeout: the whole call, waits included --------------------------------------------


async def test_total_timeout_stops_before_a_retry_after_it_cannot_wait_out() -> None:
    throttled = json_body({"detail": "slow down"}, 429, {"Retry-After": "30"})
    async with scripted(answers(throttled)) as srv:
        started = time.monotonic()
        async with ClassifyClient(SCRIPTED_KEY, base_url=srv.url, total_timeout=1.0) as client:
            with pytest.raises(RateLimitError):  # the last error: no further attempt fits
                await client.get_job("cls-1")
        assert time.monotonic() - started < 10  # not the 30 s the server asked for
    assert len(srv.requests) == 1


async def test_retries_go_on_while_they_fit_in_total_timeout() -> None:
    busy = json_body({"detail": "busy"}, 503)
    async with (
        scripted(answers(busy, busy, json_body(job()))) as srv,
        ClassifyClient(
            SCRIPTED_KEY, base_url=srv.url, retry_policy=FAST_RETRIES, total_timeout=30.0
        ) as client,
    ):
        assert (await client.get_job("cls-1")).id == "cls-1"
    assert len(srv.requests) == 3


@pytest.mark.parametrize("wait", [False, True], ids=["get_job", "wait_for_job (coalesced)"])
async def test_an_attempt_still_running_at_the_deadline_is_an_api_timeout_error(
    server: FakeClassifyServer, wait: bool
) -> None:
    (job_id,) = server.seed_jobs(1)
    server.latency = 5.0
    async with client_for(server) as client:
        view = client.with_options(total_timeout=0.2)
        call = view.wait_for_job(job_id, timeout=60.0) if wait else view.get_job(job_id)
        with pytest.raises(APITimeoutError, match=r"total_timeout=0\.2s"):
            await call
    assert len(server.requests) == 1


async def test_a_wait_for_a_throttling_turn_counts_against_total_timeout() -> None:
    throttled = json_body({"detail": "slow down"}, 429, {"Retry-After": "30"})
    async with (
        scripted(answers(throttled)) as srv,
        ClassifyClient(SCRIPTED_KEY, base_url=srv.url, max_retries=0) as client,
    ):
        with pytest.raises(RateLimitError):
            await client.get_job("cls-1")  # the 429's hint pauses every "get" call
        with pytest.raises(APITimeoutError, match="total_timeout"):
            await client.with_options(total_timeout=0.2).get_job("cls-1")
    assert len(srv.requests) == 1  # the second call never got its turn


async def test_total_timeout_bounds_each_lookup_of_a_wait(server: FakeClassifyServer) -> None:
    (job_id,) = server.seed_jobs(1, statuses="PENDING")
    server.latency = 5.0
    async with client_for(server, total_timeout=0.2) as client:
        with pytest.raises(APITimeoutError):
            await client.wait_for_job(job_id, timeout=60.0)


async def test_a_cancelled_call_with_a_deadline_is_cancelled() -> None:
    async def hang(_: web.Request) -> web.StreamResponse:
        await asyncio.sleep(30)
        raise AssertionError("unreachable")

    async with (
        scripted(hang) as srv,
        ClassifyClient(SCRIPTED_KEY, base_url=srv.url, total_timeout=20.0) as client,
    ):
        call = asyncio.create_task(client.get_job("cls-1"))
        while not srv.requests:
            await asyncio.sleep(0.01)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call


async def test_not_found_through_a_view_is_the_same_error(server: FakeClassifyServer) -> None:
    async with client_for(server) as client:
        with pytest.raises(NotFoundError):
            await client.with_options(total_timeout=5.0).get_job("cls-missing")


async def test_coalesced_lookups_go_out_with_their_own_views_options(
    server: FakeClassifyServer,
) -> None:
    ids = server.seed_jobs(6)
    async with client_for(server) as client:
        tagged = [client.with_options(extra_headers={"X-Tenant": "t"}).get_job(i) for i in ids[:3]]
        plain = [client.get_job(i) for i in ids[3:]]
        jobs = await asyncio.gather(*tagged, *plain)
    assert [job.id for job in jobs] == ids
    for request in server.requests:
        asked = {value for name, value in request.query if name == "job_ids"}
        asked = asked or {request.path.rsplit("/", 1)[-1]}
        expected = set(ids[:3]) if "X-Tenant" in request.headers else set(ids[3:])
        assert asked <= expected
    assert len(server.requests) < 6  # fresh views with equal options shared a request
