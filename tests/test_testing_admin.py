"""The fake's ``/_fake/`` admin API, driven over real HTTP as another process or language would."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aio_classify.testing
from aio_classify import ClassifyClient
from aio_classify.testing import FakeClassifyServer

from helpers import API_KEY, FAST_RETRIES, LIST, ROOT, admin_routes, child_env


async def admin(
    http: aiohttp.ClientSession, route: str, body: Any = None, *, status: int = 200
) -> Any:
    """POST ``body`` (JSON) to ``/_fake/<route>``, or GET when ``body`` is None."""
    method = "GET" if body is None else "POST"
    async with http.request(method, "/_fake/" + route, json=body) as resp:
        assert resp.status == status, await resp.text()
        return await resp.json()


async def status_of(http: aiohttp.ClientSession, path: str = LIST) -> int:
    async with http.get(path) as resp:
        await resp.read()
        return resp.status


# -- faults ---------------------------------------------------------------------------------


async def test_fail_next_scripts_statuses_with_retry_after_for_matching_requests(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    queued = await admin(http, "fail-next", {"status": 429, "retry_after": 2, "count": 2})
    assert queued == {
        "pending": [{"kind": "status", "status": 429, "method": None, "path": None}] * 2
    }
    body = {"status": 503, "path": LIST, "method": "GET", "body": {"error": "busy"}}
    await admin(http, "fail-next", body | {"headers": {"X-Should-Retry": "false"}})
    for _ in range(2):
        async with http.get(f"{LIST}/cls-x") as resp:
            assert resp.status == 429
            assert resp.headers["Retry-After"] == "2"
            assert (await resp.json())["detail"] == "Injected fault: HTTP 429"
    assert await status_of(http, f"{LIST}/cls-x") == 404  # the 503 waits for the list route
    async with http.get(LIST) as resp:
        assert resp.status == 503
        assert resp.headers["X-Should-Retry"] == "false"
        assert await resp.json() == {"error": "busy"}
    assert await status_of(http) == 200
    assert await admin(http, "faults") == {"pending": []}


async def test_drop_next_and_malformed_next(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    assert await status_of(http) == 200  # a kept-alive connection: aiohttp resends once
    await admin(http, "drop-next", {"count": 2})
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await status_of(http)
    await admin(http, "malformed-next", {})
    body = {"body": "<html>oops</html>", "status": 502, "content_type": "text/html"}
    pending = await admin(http, "malformed-next", body)
    assert pending["pending"] == [
        {"kind": "malformed", "status": 200, "method": None, "path": None},
        {"kind": "malformed", "status": 502, "method": None, "path": None},
    ]
    async with http.get(LIST) as resp:
        assert (resp.status, await resp.read()) == (200, b'{"items": [')
    async with http.get(LIST) as resp:
        assert (resp.status, resp.content_type, await resp.text()) == (
            502,
            "text/html",
            "<html>oops</html>",
        )


async def test_clear_faults(server: FakeClassifyServer, http: aiohttp.ClientSession) -> None:
    await admin(http, "drop-next", {"count": 3, "method": "POST"})
    assert len((await admin(http, "faults"))["pending"]) == 3
    assert await admin(http, "clear-faults", {}) == {"pending": []}
    assert len(server.faults) == 0


async def test_our_client_rides_out_faults_injected_over_http(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    await admin(http, "seed", {"count": 30})
    await admin(http, "fail-next", {"status": 503, "count": 2, "retry_after": 0})
    await admin(http, "drop-next", {"count": 2})
    async with ClassifyClient(API_KEY, base_url=server.url, retry_policy=FAST_RETRIES) as client:
        jobs = [job async for job in client.list_jobs(page_size=20)]
    assert len(jobs) == 30
    log = await admin(http, "requests")
    assert log["total"] == 2 + 2 + 2  # two 503s, two drops, two pages


async def test_rate_limits_set_read_and_lifted_over_http(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    body = {"call": "list", "rate": 0.5, "burst": 2, "hint": "ms"}
    limits = await admin(http, "rate-limit", body)
    assert limits["limits"] == {"list": {"rate": 0.5, "burst": 2.0, "hint": "ms"}}
    assert [await status_of(http) for _ in range(3)] == [200, 200, 429]
    async with http.get(LIST) as resp:
        assert resp.status == 429
        assert int(resp.headers["retry-after-ms"]) > 0
    described = await admin(http, "rate-limit")
    assert described["answers"] == {"list": {"allowed": 2, "throttled": 2}}
    assert [throttled for _, throttled in described["log"]["list"]] == [False, False, True, True]
    assert (await admin(http, "rate-limit", {"call": "list", "rate": None}))["limits"] == {}
    assert await status_of(http) == 200


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"rate": 1}, ["body", "call"]),
        ({"call": "list"}, ["body", "rate"]),
        ({"call": "list", "rate": "fast"}, ["body", "rate"]),
        ({"call": "list", "rate": 1, "hint": ""}, ["body", "hint"]),
        ({"call": "lists", "rate": 1}, ["body"]),
        ({"call": "list", "rate": 0}, ["body"]),
        ({"call": "list", "rate": 1, "hint": "minutes"}, ["body"]),
    ],
)
async def test_bad_rate_limits_get_422(
    server: FakeClassifyServer, http: aiohttp.ClientSession, body: dict[str, Any], loc: list[str]
) -> None:
    (error,) = (await admin(http, "rate-limit", body, status=422))["detail"]
    assert error["loc"] == loc
    assert server.rate_limits.buckets == {}


# -- latency and what the server saw --------------------------------------------------------


async def test_latency_holds_requests_in_flight_together(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    assert await admin(http, "latency") == {"seconds": 0.0}
    assert await admin(http, "latency", {"seconds": 0.3}) == {"seconds": 0.3}
    assert await asyncio.gather(*(status_of(http) for _ in range(5))) == [200] * 5
    stats = await admin(http, "stats")
    assert stats == {
        "requests": 5,
        "in_flight": 0,
        "max_in_flight": 5,
        "by_route": {f"GET {LIST}": 5},
    }
    await admin(http, "latency", {"seconds": 0})
    assert server.latency == 0.0


async def test_the_request_log_pages_with_offset_and_limit(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(LIST, params=[("job_ids", "a"), ("job_ids", "b")]) as resp:
        assert resp.status == 200
    async with http.get(f"{LIST}/cls-1", headers={"X-Trace": "r-2"}) as resp:
        assert resp.status == 404
    async with http.post(LIST, json={}) as resp:
        assert resp.status == 422
    log = await admin(http, "requests?offset=1&limit=1")
    assert log["total"] == 3
    assert log["offset"] == 1
    (entry,) = log["requests"]
    assert entry["method"] == "GET"
    assert entry["path"] == f"{LIST}/cls-1"
    assert entry["route"] == f"GET {LIST}/{{job_id}}"
    assert entry["headers"]["X-Trace"] == "r-2"
    assert entry["time"] == pytest.approx(server.requests[1].time)
    first = (await admin(http, "requests"))["requests"][0]
    assert first["query"] == [["job_ids", "a"], ["job_ids", "b"]]
    assert [r["method"] for r in (await admin(http, "requests?offset=2"))["requests"]] == ["POST"]
    assert (await admin(http, "requests?offset=9"))["requests"] == []
    assert await admin(http, "reset-stats", {}) == {}
    assert (await admin(http, "requests"))["total"] == 0
    for query in ("offset=-1", "limit=many", "limit=10001"):
        async with http.get("/_fake/requests?" + query) as resp:
            assert resp.status == 422
            assert (await resp.json())["detail"][0]["loc"][0] == "query"


# -- moving jobs ----------------------------------------------------------------------------


async def test_advance_moves_one_job_a_step_at_a_time(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    (job_id,) = (await admin(http, "seed", {"statuses": "PENDING"}))["ids"]
    route = f"jobs/{job_id}/advance"
    assert (await admin(http, route, {}))["status"] == "RUNNING"
    done = await admin(http, route, {})
    assert done["status"] == "COMPLETED"
    assert done["result"]["type"] is None or isinstance(done["result"]["type"], str)
    assert done == server.job(job_id)
    assert (await admin(http, route, {}, status=409))[
        "detail"
    ] == f"job {job_id} is already COMPLETED"
    assert await admin(http, "jobs/cls-nope/advance", {}, status=404) == {"detail": "Job not found"}


async def test_set_status_takes_any_status_and_an_error_message(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    job_id = server.add_job()["id"]
    body = {"status": "FAILED", "error_message": "the scanner jammed"}
    failed = await admin(http, f"jobs/{job_id}/status", body)
    assert (failed["status"], failed["error_message"]) == ("FAILED", "the scanner jammed")
    queued = await admin(http, f"jobs/{job_id}/status", {"status": "QUEUED"})
    assert queued["status"] == "QUEUED"  # a status the client does not know, for tolerance tests
    await admin(http, f"jobs/{job_id}/status", {}, status=422)
    await admin(http, "jobs/cls-nope/status", {"status": "FAILED"}, status=404)


async def test_advance_all_and_finish_all_leave_finished_jobs_alone(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    pending = (await admin(http, "seed", {"count": 4, "statuses": "PENDING"}))["ids"]
    running = server.seed_jobs(3, statuses="RUNNING")
    finished = server.seed_jobs(5, statuses={"COMPLETED": 1, "CANCELLED": 1})
    before = {job_id: server.job(job_id) for job_id in finished}

    moved = (await admin(http, "advance-all", {}))["moved"]
    assert moved == {job_id: "RUNNING" for job_id in pending} | dict.fromkeys(running, "COMPLETED")
    ended = (await admin(http, "finish-all", {"fail_ratio": 1.0}))["finished"]
    assert ended == dict.fromkeys(pending, "FAILED")
    assert server.unfinished_job_ids == []
    assert {job_id: server.job(job_id) for job_id in finished} == before
    assert await admin(http, "finish-all", {}) == {"finished": {}}


async def test_finish_all_fails_the_given_share_deterministically(
    http: aiohttp.ClientSession,
) -> None:
    await admin(http, "seed", {"count": 200, "statuses": "PENDING"})
    ended = (await admin(http, "finish-all", {"fail_ratio": 0.25, "seed": 4}))["finished"]
    failed = sum(status == "FAILED" for status in ended.values())
    assert 20 <= failed <= 80
    assert set(ended.values()) == {"COMPLETED", "FAILED"}


async def test_finish_later_without_ids_schedules_every_unfinished_job(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    unfinished = server.seed_jobs(20, statuses={"PENDING": 1, "RUNNING": 1})
    server.seed_jobs(5, statuses="COMPLETED")
    due = (await admin(http, "finish-later", {"within": 0.2}))["due"]
    assert set(due) == set(unfinished)
    await asyncio.sleep(0.25)
    assert server.unfinished_job_ids == []
    assert set(await admin(http, "terminal-times")) == set(unfinished)


# -- contract of the admin API itself -------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "raw_body", "loc"),
    [
        ("fail-next", "{}", ["body", "status"]),
        ("fail-next", '{"status": 99}', ["body", "status"]),
        ("fail-next", '{"status": 503, "count": 0}', ["body", "count"]),
        ("fail-next", '{"status": 503, "count": 2.5}', ["body", "count"]),
        ("fail-next", '{"status": 503, "retry-after": 1}', ["body", "retry-after"]),
        ("fail-next", '{"status": 503, "retry_after": [1]}', ["body", "retry_after"]),
        ("fail-next", '{"status": 503, "headers": {"X-A": "1\\r\\nX-B: 2"}}', ["body", "headers"]),
        ("drop-next", '{"count": true}', ["body", "count"]),
        ("malformed-next", '{"body": {"items": 1}}', ["body", "body"]),
        ("latency", '{"seconds": NaN}', ["body", "seconds"]),
        ("latency", '{"seconds": -1}', ["body", "seconds"]),
        ("latency", '{"seconds": "soon"}', ["body", "seconds"]),
        ("seed", '{"count": 3, "statuses": {"PENDING": "many"}}', ["body", "statuses"]),
        ("finish-later", '{"job_ids": "cls-1"}', ["body", "job_ids"]),
        ("finish-all", '{"fail_ratio": 1.5}', ["body", "fail_ratio"]),
        ("advance-all", '{"all": true}', ["body", "all"]),
        ("seed", "[1, 2]", ["body"]),
        ("seed", "{not json", ["body", 0]),
    ],
)
async def test_bad_admin_bodies_get_422_naming_the_field_and_change_nothing(
    server: FakeClassifyServer,
    http: aiohttp.ClientSession,
    route: str,
    raw_body: str,
    loc: list[Any],
) -> None:
    async with http.post("/_fake/" + route, data=raw_body) as resp:
        assert resp.status == 422
        (error,) = (await resp.json())["detail"]
    assert error["loc"] == loc
    assert error["msg"]
    assert len(server.faults) == 0
    assert server.latency == 0.0
    assert server.job_ids == []


async def test_every_admin_route_needs_the_bearer_token(server: FakeClassifyServer) -> None:
    routes = admin_routes(server)
    assert len(routes) >= 17
    async with aiohttp.ClientSession(server.url) as anonymous:
        for route in sorted(routes):
            method, path = route.split(" ")
            async with anonymous.request(method, path.replace("{job_id}", "cls-1")) as resp:
                assert resp.status == 401, route


DOCUMENTED = re.compile(r"^\| `(GET|POST|DELETE|PUT) (/_fake/[^` ]+)` \|", re.M)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param((ROOT / "README.md").read_text(encoding="utf-8"), id="README"),
        pytest.param(
            (ROOT / "docs" / "guides" / "testing.md").read_text(encoding="utf-8"),
            id="docs/guides/testing.md",
        ),
        pytest.param(aio_classify.testing.__doc__ or "", id="aio_classify.testing"),
    ],
)
def test_every_admin_route_is_documented_and_no_other(text: str) -> None:
    documented = {f"{method} {path}" for method, path in DOCUMENTED.findall(text)}
    assert documented == admin_routes(FakeClassifyServer())


def test_fake_server_finish_after_also_moves_the_seeded_unfinished_jobs() -> None:
    assert len(FakeClassifyServer(seed=3, jobs=60).unfinished_job_ids) >= 3  # same seed, same mix
    env = child_env()
    command = [sys.executable, "-m", "aio_classify.testing", "--port", "0", "--jobs", "60"]
    command += ["--seed", "3", "--finish-after", "0.3", "--api-key", "k"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        try:
            first, later = asyncio.run(_statuses_then_after(url, 0.5))
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert not set(first.values()) <= {"COMPLETED", "FAILED", "CANCELLED"}  # still to watch
    assert len(later) == 60
    assert set(later.values()) <= {"COMPLETED", "FAILED", "CANCELLED"}


async def _statuses_then_after(url: str, delay: float) -> tuple[dict[str, str], ...]:
    """Every job's status at the first request (the seeded jobs start finishing then), and
    ``delay`` seconds later: what a shell user sees."""
    async with ClassifyClient("k", base_url=url, retry_policy=FAST_RETRIES) as client:
        first = {job.id: str(job.status) async for job in client.list_jobs(page_size=100)}
        await asyncio.sleep(delay)
        later = {job.id: str(job.status) async for job in client.list_jobs(page_size=100)}
    return first, later


# -- hostile admin and create bodies, hostile fault headers -----------------------------------


@settings(max_examples=12, deadline=None)
@given(
    depth=st.sampled_from([2, 900, 1_200, 50_000]),
    route=st.sampled_from(["/_fake/seed", "/_fake/fail-next", "/api/v2/classify"]),
    opener=st.sampled_from(["[", '{"a":']),
)
def test_a_body_nested_to_any_depth_is_a_422_never_a_500(
    depth: int, route: str, opener: str
) -> None:
    closer = "]" if opener == "[" else "}"
    body = opener * depth + "1" + closer * depth

    async def post() -> tuple[int, str]:
        async with (
            FakeClassifyServer(api_key=API_KEY) as server,
            aiohttp.ClientSession(
                server.url, headers={"Authorization": f"Bearer {API_KEY}"}
            ) as http,
            http.post(route, data=body, headers={"Content-Type": "application/json"}) as resp,
        ):
            return resp.status, resp.content_type

    status, content_type = asyncio.run(post())
    assert (status, content_type) == (422, "application/json")


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("fail-next", {"status": 503, "headers": {"X-A": "nul\x00"}}, "headers"),
        ("fail-next", {"status": 503, "headers": {"X-A": "esc\x1b[2J"}}, "headers"),
        ("fail-next", {"status": 503, "headers": {"X-A": "del\x7f"}}, "headers"),
        ("fail-next", {"status": 503, "headers": {"X-A": "cr\r\nX-B: 1"}}, "headers"),
        ("fail-next", {"status": 503, "headers": {"X A": "space in the name"}}, "headers"),
        ("fail-next", {"status": 503, "headers": {"X-\x00": "nul in the name"}}, "headers"),
        ("fail-next", {"status": 503, "retry_after": "1\x00"}, "retry_after"),
        ("malformed-next", {"content_type": "text/plain\r\nX-Injected: 1"}, "content_type"),
        ("malformed-next", {"content_type": "text/plain\x1b"}, "content_type"),
    ],
)
async def test_fault_headers_with_control_characters_are_refused(
    server: FakeClassifyServer,
    http: aiohttp.ClientSession,
    route: str,
    body: dict[str, Any],
    field: str,
) -> None:
    async with http.post("/_fake/" + route, json=body) as resp:
        assert resp.status == 422, await resp.text()
        (error,) = (await resp.json())["detail"]
    assert error["loc"] == ["body", field]
    assert len(server.faults) == 0
    assert await status_of(http) == 200  # the next answer is a plain, healthy one


async def test_a_tab_in_a_fault_header_value_is_fine(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    await admin(http, "fail-next", {"status": 503, "headers": {"X-A": "a\tb"}})
    async with http.get(LIST) as resp:
        assert resp.status == 503
        assert resp.headers["X-A"] == "a\tb"


async def test_an_ipv6_server_url_has_brackets_and_our_client_uses_it() -> None:
    try:
        server = FakeClassifyServer(api_key=API_KEY, host="::1")
        await server.start()
    except OSError:  # no IPv6 loopback on this machine: nothing to test here
        pytest.skip("no IPv6 loopback")
    try:
        assert server.url.startswith("http://[::1]:")
        server.seed_jobs(3)
        async with ClassifyClient(API_KEY, base_url=server.url, retry_policy=FAST_RETRIES) as c:
            assert len([job async for job in c.list_jobs()]) == 3
    finally:
        await server.close()
