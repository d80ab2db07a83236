"""The fake Classify server, exercised over real HTTP with a plain aiohttp session."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from aio_classify._fake_server_options import INPUT_FIELD_SPELLINGS
from aio_classify.cli import build_parser
from aio_classify.testing import FakeClassifyServer, Lifecycle
from aio_classify.testing._server import INPUT_FIELDS
from aio_classify.testing._standalone import serving

from helpers import LIST, child_env

RULES = [
    {"type": "invoice", "description": "Has an invoice number and an amount due."},
    {"type": "receipt", "description": "Proof of purchase with items and taxes paid."},
]


async def get_json(http: aiohttp.ClientSession, path: str, **params: Any) -> Any:
    async with http.get(path, params=params) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def list_all(
    http: aiohttp.ClientSession, params: list[tuple[str, str]], token: str | None = None
) -> list[str]:
    ids: list[str] = []
    for _ in range(1000):
        query = params + ([("page_token", token)] if token else [])
        async with http.get(LIST, params=query) as resp:
            assert resp.status == 200, await resp.text()
            page = await resp.json()
        ids += [job["id"] for job in page["items"]]
        token = page["next_page_token"]
        if token is None:
            return ids
    raise AssertionError("the listing never ended")


async def create(http: aiohttp.ClientSession, **body: Any) -> aiohttp.ClientResponse:
    body = {"file_input": "dfl-invoice-2024-03-0042.pdf", "configuration": {"rules": RULES}} | body
    async with http.post(LIST, json=body) as resp:
        await resp.read()
        return resp


# -- auth and listing -----------------------------------------------------------------------


@pytest.mark.parametrize("path", [LIST, f"{LIST}/cls-x", "/_fake/stats"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "x"}])
async def test_requests_without_the_right_bearer_token_get_401(
    server: FakeClassifyServer, path: str, headers: dict[str, str]
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.url + path, headers=headers) as r,
    ):
        assert r.status == 401
        assert isinstance((await r.json())["detail"], str)


async def test_ten_thousand_jobs_list_once_each_newest_first(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    started = time.perf_counter()
    seeded = server.seed_jobs(10_000)
    assert time.perf_counter() - started < 2.0
    ids: list[str] = []
    token, pages = None, 0
    while True:
        page = await get_json(http, LIST, page_size=100, **({"page_token": token} if token else {}))
        pages += 1
        assert page["total_size"] == 10_000
        keys = [(job["created_at"], job["id"]) for job in page["items"]]
        assert keys == sorted(keys, reverse=True)
        ids += [job["id"] for job in page["items"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert pages == 100
    assert ids == seeded == server.job_ids
    assert len(set(ids)) == 10_000


async def test_jobs_created_mid_listing_cause_no_repeats(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    seeded = server.seed_jobs(30)
    first = await get_json(http, LIST, page_size=10)
    new = server.add_job()
    rest = await list_all(http, [("page_size", "10")], first["next_page_token"])
    assert [j["id"] for j in first["items"]] + rest == seeded
    assert new["id"] not in rest


async def test_filters(server: FakeClassifyServer, http: aiohttp.ClientSession) -> None:
    now = time.time()
    ids = server.seed_jobs(200, span=1000.0, before=now)
    other = server.seed_jobs(
        5, project_id="0e0e0e0e-0000-4000-8000-000000000000", configuration_id="cfg-1", before=now
    )
    jobs = {i: server.job(i) for i in ids + other}

    failed = await list_all(http, [("status", "FAILED")])
    assert failed == [i for i in server.job_ids if jobs[i]["status"] == "FAILED"]  # type: ignore[index]
    assert await list_all(http, [("project_id", "0e0e0e0e-0000-4000-8000-000000000000")]) == other
    assert await list_all(http, [("configuration_id", "cfg-1")]) == other
    picked = [ids[5], ids[1], "cls-unknown", ids[7]]
    assert await list_all(http, [("job_ids", i) for i in picked]) == [ids[1], ids[5], ids[7]]
    assert await list_all(http, [("job_ids", ids[3])]) == [ids[3]]

    low, high = jobs[ids[150]]["created_at"], jobs[ids[50]]["created_at"]  # type: ignore[index]
    window = [("created_at_on_or_after", low), ("created_at_on_or_before", high)]
    assert (
        await list_all(http, [*window, ("project_id", "5f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b")])
        == ids[50:151]
    )
    naive = datetime.fromisoformat(low).astimezone(UTC).replace(tzinfo=None).isoformat()
    assert (
        await list_all(
            http,
            [
                ("created_at_on_or_after", naive),
                ("project_id", "5f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b"),
            ],
        )
    )[-1] == ids[150]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("page_size", "0"),
        ("page_size", "101"),
        ("page_size", "ten"),
        ("status", "QUEUED"),
        ("created_at_on_or_after", "yesterday"),
        ("created_at_on_or_before", "2024-13-01"),
        ("page_token", "not a token!"),
    ],
)
async def test_bad_query_values_get_422(http: aiohttp.ClientSession, name: str, value: str) -> None:
    async with http.get(LIST, params={name: value}) as resp:
        assert resp.status == 422
        (error,) = (await resp.json())["detail"]
        assert error["loc"] == ["query", name]
        assert error["msg"]
        assert error["type"]


async def test_a_token_from_other_filters_gets_422(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    server.seed_jobs(20, statuses="COMPLETED")
    token = (await get_json(http, LIST, page_size=5, status="COMPLETED"))["next_page_token"]
    assert token
    assert "COMPLETED" not in token
    async with http.get(LIST, params={"page_token": token, "status": "FAILED"}) as resp:
        assert resp.status == 422
        assert (await resp.json())["detail"][0]["loc"] == ["query", "page_token"]
    page = await get_json(http, LIST, page_size=50, status="COMPLETED", page_token=token)
    assert len(page["items"]) == 15
    assert page["next_page_token"] is None


async def test_job_json_has_every_field_and_a_realistic_size(server: FakeClassifyServer) -> None:
    ids = server.seed_jobs(2000)
    sizes = sorted(len(json.dumps(server.job(i), separators=(",", ":"))) for i in ids)
    assert sizes[0] >= 600
    assert sizes[-1] <= 1300
    assert 600 <= sizes[len(sizes) // 2] <= 1100
    job = server.job(ids[0])
    assert job is not None
    assert job["id"].startswith("cls-")
    assert len(job["id"]) == 28
    assert job["file_input"].startswith("dfl-") and "document_input_value" not in job
    assert 2 <= len(job["configuration"]["rules"]) <= 4
    for key in ("project_id", "user_id", "created_at", "updated_at", "usage", "transaction_id"):
        assert key in job
    assert job["created_at"].endswith("Z")


async def test_seeding_is_deterministic() -> None:
    first = FakeClassifyServer(seed=7)
    second = FakeClassifyServer(seed=7)
    a, b = first.seed_jobs(50, before=1e9), second.seed_jobs(50, before=1e9)
    assert a == b
    assert [first.job(i) for i in a] == [second.job(i) for i in b]


async def test_get_job_and_404(server: FakeClassifyServer, http: aiohttp.ClientSession) -> None:
    job = server.add_job(status="QUEUED", result=...)
    got = await get_json(http, f"{LIST}/{job['id']}")
    assert got == {key: value for key, value in job.items() if key != "usage"}
    assert got["status"] == "QUEUED"
    assert "result" not in got
    assert await get_json(http, f"{LIST}/{job['id']}", expand="usage") == job
    async with http.get(f"{LIST}/cls-missing") as resp:
        assert resp.status == 404
        assert await resp.json() == {"detail": "Job not found"}


# -- create, cancel, delete -----------------------------------------------------------------


async def test_create_returns_a_pending_job_and_dedups_transactions(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    resp = await create(http, transaction_id="txn-1")
    assert resp.status == 200
    job = await resp.json()
    assert job["status"] == "PENDING"
    assert job["document_input_type"] == "file_id"
    assert job["file_input"] == "dfl-invoice-2024-03-0042.pdf"
    assert "document_input_value" not in job and "usage" not in job
    assert job["configuration"]["parsing_configuration"] is None
    assert job["configuration"]["rules"] == RULES
    assert job["project_id"] == "5f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b"
    assert job["transaction_id"] == "txn-1"

    again = await (await create(http, transaction_id="txn-1", file_input="dfl-other.pdf")).json()
    assert again == job
    async with http.post(
        LIST,
        params={"project_id": "22222222-0000-4000-8000-000000000002"},
        json={"file_input": "pjb-123", "configuration_id": "cfg-9", "transaction_id": "txn-1"},
    ) as resp:
        other = await resp.json()
    assert other["id"] != job["id"]
    assert other["project_id"] == "22222222-0000-4000-8000-000000000002"
    assert other["document_input_type"] == "parse_job_id"
    assert other["configuration_id"] == "cfg-9"
    assert other["configuration"]["rules"]
    assert server.job_ids == [other["id"], job["id"]]


async def test_create_accepts_deprecated_file_id(http: aiohttp.ClientSession) -> None:
    resp = await create(http, file_input=None, file_id="dfl-receipt-1.pdf")
    assert (await resp.json())["file_input"] == "dfl-receipt-1.pdf"


LONG = "x" * 2001


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"file_input": None}, ["body", "file_input"]),
        ({"configuration": {"rules": []}}, ["body", "configuration", "rules"]),
        ({"configuration": {}}, ["body", "configuration", "rules"]),
        (
            {"configuration": {"rules": [{"type": "", "description": "long enough text"}]}},
            ["body", "configuration", "rules", 0, "type"],
        ),
        (
            {"configuration": {"rules": [RULES[0], {"type": "a", "description": "short"}]}},
            ["body", "configuration", "rules", 1, "description"],
        ),
        (
            {"configuration": {"rules": [{"type": "a", "description": LONG}]}},
            ["body", "configuration", "rules", 0, "description"],
        ),
        (
            {"configuration": {"rules": [{"type": "a" * 51, "description": "long enough text"}]}},
            ["body", "configuration", "rules", 0, "type"],
        ),
        (
            {"configuration": {"rules": RULES, "parsing_configuration": {"max_pages": 0}}},
            ["body", "configuration", "parsing_configuration", "max_pages"],
        ),
        ({"configuration": {"rules": RULES, "mode": "SLOW"}}, ["body", "configuration", "mode"]),
        ({"configuration_id": "cfg-1"}, ["body"]),
        ({"configuration": None}, ["body"]),
    ],
)
async def test_bad_create_bodies_get_422(
    server: FakeClassifyServer, http: aiohttp.ClientSession, body: dict[str, Any], loc: list[Any]
) -> None:
    resp = await create(http, **body)
    assert resp.status == 422
    assert [e["loc"] for e in (await resp.json())["detail"]] == [loc]
    assert server.job_ids == []


async def test_cancel_and_delete_rules(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    job = await (await create(http)).json()
    url = f"{LIST}/{job['id']}"
    async with http.delete(url) as resp:
        assert resp.status == 409
        assert "detail" in await resp.json()
    async with http.post(f"{url}/cancel") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "CANCELLED"
    async with http.post(f"{url}/cancel") as resp:
        assert resp.status == 409
    async with http.delete(url) as resp:
        assert resp.status == 200
        assert await resp.json() == {
            "id": job["id"],
            "project_id": "5f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b",
        }
    for method in ("GET", "DELETE"):
        async with http.request(method, url) as resp:
            assert resp.status == 404
    async with http.post(f"{url}/cancel") as resp:
        assert resp.status == 404
    assert server.job(job["id"]) is None


# -- lifecycle ------------------------------------------------------------------------------


async def test_jobs_created_over_http_follow_the_lifecycle_by_time(
    http: aiohttp.ClientSession, server: FakeClassifyServer
) -> None:
    server.lifecycle = Lifecycle(running_after=0.1, finish_after=0.3)
    job = await (await create(http)).json()
    url = f"{LIST}/{job['id']}"
    assert (await get_json(http, url))["status"] == "PENDING"
    await asyncio.sleep(0.15)
    assert (await get_json(http, url))["status"] == "RUNNING"
    await asyncio.sleep(0.2)
    done = await get_json(http, url)
    assert done["status"] == "COMPLETED"
    assert done["result"]["type"] == "invoice"
    created = datetime.fromisoformat(done["created_at"])
    assert datetime.fromisoformat(done["updated_at"]) - created == timedelta(milliseconds=300)
    assert server.terminal_times()[job["id"]] == pytest.approx(created.timestamp() + 0.3, abs=0.002)


async def test_jobs_created_over_http_stay_pending_without_a_lifecycle(
    http: aiohttp.ClientSession, server: FakeClassifyServer
) -> None:
    job = await (await create(http)).json()
    await asyncio.sleep(0.1)
    assert server.job(job["id"])["status"] == "PENDING"  # type: ignore[index]


async def test_tests_drive_jobs(server: FakeClassifyServer, http: aiohttp.ClientSession) -> None:
    a, b, c = (server.add_job()["id"] for _ in range(3))
    assert server.set_status(a, "RUNNING")["status"] == "RUNNING"
    failed = server.fail(b, message="boom")
    assert failed["status"] == "FAILED"
    assert failed["error_message"] == "boom"
    assert failed["result"] is None
    done = server.complete(c)
    assert done["status"] == "COMPLETED"
    assert done["result"] is not None
    assert set(server.terminal_times()) == {b, c}
    statuses = {j["id"]: j["status"] for j in (await get_json(http, LIST))["items"]}
    assert statuses == {a: "RUNNING", b: "FAILED", c: "COMPLETED"}


async def test_finish_later_moves_jobs_through_running_to_terminal(
    server: FakeClassifyServer,
) -> None:
    ids = server.seed_jobs(100, statuses="PENDING")
    started = time.time()
    due = server.finish_later([*ids, "cls-unknown"], within=0.3, seed=3, fail_ratio=0.5)
    assert set(due) == set(ids)
    assert all(started < t <= started + 0.31 for t in due.values())
    await asyncio.sleep(0.35)
    statuses = {server.job(i)["status"] for i in ids}  # type: ignore[index]
    assert statuses == {"COMPLETED", "FAILED"}
    assert server.terminal_times() == due
    assert server.finish_later(ids) == {}


async def test_completion_result_is_deterministic(server: FakeClassifyServer) -> None:
    config = {"rules": RULES, "mode": "FAST", "parsing_configuration": None}
    match = server.add_job(configuration=config, file_input="dfl-RECEIPT-invoice.pdf")
    miss = server.add_job(configuration=config, file_input="dfl-memo-2024.pdf")
    result = server.complete(match["id"])["result"]
    assert result["type"] == "invoice"  # the first rule that occurs wins
    assert 0.8 <= result["confidence"] <= 1
    assert "invoice" in result["reasoning"]
    assert server.complete(match["id"])["result"] == result
    missed = server.complete(miss["id"])["result"]
    assert missed["type"] is None
    assert missed["confidence"] < 0.5
    assert missed["reasoning"]


# -- faults and observations ----------------------------------------------------------------


async def test_fail_next_answers_with_status_headers_and_detail(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    server.fail_next(429, headers={"Retry-After": "1"})
    server.fail_next(503, count=2, method="GET", path=LIST)
    async with http.get(f"{LIST}/cls-x") as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "1"
        assert "detail" in await resp.json()
    async with http.get(f"{LIST}/cls-x") as resp:
        assert resp.status == 404  # the 503s wait for the list route
    for _ in range(2):
        async with http.get(LIST) as resp:
            assert resp.status == 503
    async with http.get(LIST) as resp:
        assert resp.status == 200


async def test_malformed_next(server: FakeClassifyServer, http: aiohttp.ClientSession) -> None:
    server.malformed_next()
    server.malformed_next(body=b"<html>oops</html>", status=502, content_type="text/html")
    async with http.get(LIST) as resp:
        assert resp.status == 200
        assert await resp.read() == b'{"items": ['
    async with http.get(LIST) as resp:
        assert resp.status == 502
        assert resp.content_type == "text/html"


async def test_drop_next_two_defeats_aiohttp_silent_resend(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    await get_json(http, LIST)  # a kept-alive connection, so aiohttp would resend once
    server.drop_next(2)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await get_json(http, LIST)
    assert len(server.requests) == 3
    assert len(server.faults) == 0
    assert (await get_json(http, LIST))["items"] == []


async def test_max_in_flight_counts_concurrent_requests_under_latency(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    server.latency = 0.2
    started = time.perf_counter()
    await asyncio.gather(*(get_json(http, LIST) for _ in range(6)))
    assert time.perf_counter() - started >= 0.2
    assert server.max_in_flight == 6
    assert server.in_flight == 0
    assert [(r.method, r.path, r.route) for r in server.requests] == [
        ("GET", LIST, f"GET {LIST}")
    ] * 6
    server.reset_stats()
    assert server.requests == []
    assert server.max_in_flight == 0


async def test_requests_are_recorded_with_their_query(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    await get_json(http, LIST, job_ids="a")
    async with http.get(LIST, params=[("job_ids", "a"), ("job_ids", "b")]) as resp:
        assert resp.status == 200
    assert server.requests[1].query == (("job_ids", "a"), ("job_ids", "b"))
    assert server.requests[1].headers["Authorization"] == "Bearer [redacted]"
    assert server.requests[1].authorized


async def test_admin_endpoints(server: FakeClassifyServer, http: aiohttp.ClientSession) -> None:
    async with http.post("/_fake/seed", json={"count": 5, "statuses": "PENDING"}) as resp:
        ids = (await resp.json())["ids"]
    assert ids == server.job_ids
    assert len(ids) == 5
    await get_json(http, LIST)
    await get_json(http, f"{LIST}/{ids[0]}")
    stats = await get_json(http, "/_fake/stats")
    assert stats["requests"] == 2
    assert stats["max_in_flight"] == 1
    assert stats["by_route"] == {f"GET {LIST}": 1, f"GET {LIST}/{{job_id}}": 1}
    async with http.post("/_fake/latency", json={"seconds": 0.05}) as resp:
        assert resp.status == 200
    assert server.latency == 0.05
    async with http.post("/_fake/finish-later", json={"job_ids": ids, "within": 0.1}) as resp:
        assert set((await resp.json())["due"]) == set(ids)
    await asyncio.sleep(0.15)
    times = await get_json(http, "/_fake/terminal-times")
    assert set(times) == set(ids)
    async with http.post("/_fake/reset-stats") as resp:
        assert resp.status == 200
    assert (await get_json(http, "/_fake/stats"))["requests"] == 0
    async with http.post("/_fake/latency", json={"seconds": "soon"}) as resp:
        assert resp.status == 422


async def test_close_is_idempotent() -> None:
    server = FakeClassifyServer()
    await server.start()
    await server.start()
    url = server.url
    await server.close()
    await server.close()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(url + LIST)
    with pytest.raises(RuntimeError):
        _ = server.url


def test_standalone_prints_url_and_stops_cleanly_on_sigint() -> None:
    env = child_env()
    cmd = [
        sys.executable,
        "-m",
        "aio_classify.testing",
        "--port",
        "0",
        "--jobs",
        "20",
        "--api-key",
        "k",
    ]
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as proc:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert proc.stdout.readline().strip() == "k"
        assert url.startswith("http://127.0.0.1:")
        page = asyncio.run(_fetch(url + LIST, "k"))
        assert page["total_size"] == 20
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in stderr


async def test_standalone_seeded_jobs_wait_for_the_first_api_request_to_start_finishing() -> None:
    """A newcomer starts the fake, opens another terminal and lists the PENDING jobs: they are
    still there however long that took, and finish within ``--finish-after`` of that listing."""
    options = ["--port", "0", "--jobs", "300", "--finish-after", "0.3"]
    args = build_parser().parse_args(["fake-server", *options])
    async with serving(args) as server:
        unfinished = server.unfinished_job_ids
        assert unfinished
        await asyncio.sleep(0.6)  # twice --finish-after, before any API request
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer test-key"}) as http:
            async with http.get(server.url + "/_fake/faults") as admin:  # not an API request
                assert admin.status == 200
            await asyncio.sleep(0.6)
            assert server.unfinished_job_ids == unfinished
            body = {"file_input": "dfl-1.pdf", "configuration": {"rules": RULES}}
            async with http.post(server.url + LIST, json=body) as answer:  # the first request
                created = await answer.json()
            pending = await get_json(http, server.url + LIST, status="PENDING")
            assert pending["items"]
            for _ in range(300):
                if not server.unfinished_job_ids:
                    break
                await asyncio.sleep(0.1)
        assert server.unfinished_job_ids == []
        # The job the first request created keeps its own lifecycle: done 0.3 s after creation.
        created_at = datetime.fromisoformat(created["created_at"]).timestamp()
        assert server.terminal_times()[created["id"]] == pytest.approx(created_at + 0.3, abs=2e-3)


async def _fetch(url: str, key: str) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        return await resp.json()


# -- what the spec (2026-08) and the official SDK 2.19 say ------------------------------------

OTHER_PROJECT = "0e0e0e0e-0000-4000-8000-000000000000"


async def test_lang_defaults_to_en_and_must_be_a_string(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    parsing = {"max_pages": 3}
    job = await (
        await create(http, configuration={"rules": RULES, **{"parsing_configuration": parsing}})
    ).json()
    assert job["configuration"]["parsing_configuration"] == {
        "lang": "en",
        "max_pages": 3,
        "target_pages": None,
    }
    config = {"rules": RULES, "parsing_configuration": {"lang": "de"}}
    job = await (await create(http, configuration=config)).json()
    assert job["configuration"]["parsing_configuration"]["lang"] == "de"
    config = {"rules": RULES, "parsing_configuration": {"lang": None}}
    resp = await create(http, configuration=config)
    assert resp.status == 422


@pytest.mark.parametrize(
    ("file_input", "kind"),
    [
        ("https://files.example/invoice.pdf", "url"),
        ("HTTP://files.example/a.pdf", "url"),
        ("pjb-1234", "parse_job_id"),
        ("dfl-1234", "file_id"),
    ],
)
async def test_document_input_type_follows_the_input(
    server: FakeClassifyServer, http: aiohttp.ClientSession, file_input: str, kind: str
) -> None:
    job = await (await create(http, file_input=file_input)).json()
    assert job["document_input_type"] == kind
    assert job["file_input"] == file_input


async def test_usage_only_when_asked_with_expand(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    (job_id,) = server.seed_jobs(1, statuses="COMPLETED")
    assert "usage" not in await get_json(http, f"{LIST}/{job_id}")
    assert "usage" not in await get_json(http, f"{LIST}/{job_id}", expand="other")
    expanded = await get_json(http, f"{LIST}/{job_id}", expand="usage")
    assert expanded["usage"]["credits"] > 0
    assert all("usage" not in job for job in (await get_json(http, LIST))["items"])
    created = await (await create(http)).json()
    assert "usage" not in created


async def test_get_cancel_delete_honour_project_id(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    running = server.add_job(status="RUNNING")["id"]
    (done,) = server.seed_jobs(1, statuses="COMPLETED")
    other = {"project_id": OTHER_PROJECT}
    async with http.get(f"{LIST}/{running}", params=other) as resp:
        assert resp.status == 404
    async with http.post(f"{LIST}/{running}/cancel", params=other) as resp:
        assert resp.status == 404
    async with http.delete(f"{LIST}/{done}", params=other) as resp:
        assert resp.status == 404
    assert server.job(running)["status"] == "RUNNING"  # type: ignore[index]
    assert server.job(done) is not None
    own = {"project_id": server.project_id.upper()}  # a UUID in any case is the same UUID
    async with http.get(f"{LIST}/{running}", params=own) as resp:
        assert resp.status == 200
    async with http.post(f"{LIST}/{running}/cancel", params=own) as resp:
        assert resp.status == 200
    async with http.delete(f"{LIST}/{done}", params=own) as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v2/nothing", 404),
        ("GET", "/api/v2/classify/a/b/c", 404),
        ("PUT", "/api/v2/classify", 405),
        ("PATCH", "/api/v2/classify/cls-1", 405),
        ("GET", "/api/v2/classify/cls-1/cancel", 405),
    ],
)
async def test_unknown_routes_and_methods_answer_json(
    server: FakeClassifyServer, http: aiohttp.ClientSession, method: str, path: str, status: int
) -> None:
    async with aiohttp.ClientSession(server.url) as anonymous:
        # Without a token too: the route is judged first, as the service's framework does.
        for session in (http, anonymous):
            async with session.request(method, path) as resp:
                body = await resp.json()
            assert resp.status == status
            assert resp.content_type == "application/json"
            assert body == {"detail": "Not Found" if status == 404 else "Method Not Allowed"}
            if status == 405:
                assert resp.headers["Allow"]


@pytest.mark.parametrize("name", ["project_id", "organization_id"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v2/classify"),
        ("POST", "/api/v2/classify"),
        ("GET", "/api/v2/classify/cls-1"),
        ("POST", "/api/v2/classify/cls-1/cancel"),
        ("DELETE", "/api/v2/classify/cls-1"),
    ],
)
async def test_scope_ids_must_be_uuids(
    server: FakeClassifyServer, http: aiohttp.ClientSession, name: str, method: str, path: str
) -> None:
    body = {"file_input": "dfl-1.pdf", "configuration": {"rules": RULES}}
    for bad in (
        "prj-default",
        "5f0c1a2b3c4d4e5f8a6b7c8d9e0f1a2b",
        "5f0c1a2b3c4d-4e5f-8a6b-7c8d-9e0f1a2b",
        "{5f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b}",
    ):
        async with http.request(method, path, params={name: bad}, json=body) as resp:
            assert resp.status == 422
            assert (await resp.json())["detail"][0]["loc"] == ["query", name]
    assert server.job_ids == []
    assert uuid.UUID(server.project_id)
    with pytest.raises(ValueError, match="project_id must be a UUID"):
        FakeClassifyServer(project_id="prj-default")


@pytest.mark.parametrize(
    ("field", "longest", "value"),
    [
        ("transaction_id", "t" * 255, "t" * 256),
        ("file_input", "dfl-" + "f" * 196, "dfl-" + "f" * 197),
        ("webhook_configuration_ids", ["whc-1"] * 4, ["whc-1"] * 5),
    ],
)
async def test_create_limits_are_the_specs(
    server: FakeClassifyServer,
    http: aiohttp.ClientSession,
    field: str,
    longest: Any,
    value: Any,
) -> None:
    assert (await create(http, **{field: longest})).status == 200
    resp = await create(http, **{field: value})
    assert resp.status == 422
    assert len(server.job_ids) == 1


@pytest.mark.parametrize(
    ("webhook", "loc"),
    [
        ({"webhook_events": ["classify.done"]}, ["webhook_events", 0]),
        ({"webhook_events": "classify.success"}, ["webhook_events"]),
        ({"webhook_headers": {"X": 1}}, ["webhook_headers"]),
        ({"webhook_url": 7}, ["webhook_url"]),
        ({"webhook_signing_secret": ["s"]}, ["webhook_signing_secret"]),
        ("https://hooks.example", []),
    ],
)
async def test_bad_webhook_configurations_get_422(
    server: FakeClassifyServer, http: aiohttp.ClientSession, webhook: Any, loc: list[Any]
) -> None:
    resp = await create(http, webhook_configurations=[webhook])
    assert resp.status == 422
    errors = (await resp.json())["detail"]
    assert [e["loc"] for e in errors] == [["body", "webhook_configurations", 0, *loc]]
    assert server.job_ids == []


@pytest.mark.parametrize(
    ("input_fields", "present", "absent"),
    [
        ("file_input", {"file_input"}, {"document_input_value"}),
        ("document_input_value", {"document_input_value"}, {"file_input"}),
        ("both", {"file_input", "document_input_value"}, set()),
    ],
)
async def test_input_field_spelling_is_a_choice(
    input_fields: str, present: set[str], absent: set[str]
) -> None:
    async with FakeClassifyServer(input_fields=input_fields, jobs=3) as server:
        headers = {"Authorization": f"Bearer {server.api_key}"}
        async with aiohttp.ClientSession(server.url, headers=headers) as http:
            page = await get_json(http, LIST)
            one = await get_json(http, f"{LIST}/{server.job_ids[0]}")
            made = await (await create(http)).json()
    for job in (*page["items"], one, made):
        assert present <= job.keys() and not absent & job.keys()
        assert all(job[key].startswith("dfl-") for key in present)
    with pytest.raises(ValueError, match="input_fields"):
        FakeClassifyServer(input_fields="document")
    # The command line offers exactly the server's choices (its module cannot import them).
    assert set(INPUT_FIELD_SPELLINGS) == set(INPUT_FIELDS)
