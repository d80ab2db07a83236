"""The examples, served on loopback against the fake: ``status_service.py`` under load (200
concurrent requests, one client session); ``fastapi_service.py`` under a real uvicorn server; the
webhook services (aiohttp.web and FastAPI under uvicorn) waiting on the fake's deliveries to
themselves."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import importlib.util
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import httpx
import pytest
import uvicorn
from aiohttp.test_utils import TestClient, TestServer

from aio_classify.testing import FakeClassifyServer, Lifecycle
from aio_classify.webhooks import MAX_BODY_BYTES, sign

from helpers import API_KEY, ROOT

EXAMPLES = ROOT / "examples"


# -- what a reader pastes: usage lines and the dependencies they need ---------------------------

#: Modules the examples use that installing aio_classify does not bring, and their pip names.
NOT_INSTALLED_WITH_US = {
    "fastapi": "fastapi",
    "uvicorn": "uvicorn",
    "llama_cloud": "llama-cloud",
    "aio_classify.redis": "redis",  # the package's extra ``redis``
}
EXAMPLE_FILES = sorted(EXAMPLES.rglob("*.py"))


def usage_lines(path: Path) -> list[str]:
    """The indented shell lines of an example's docstring."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return [line.strip() for line in doc.splitlines() if line.startswith("    ")]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    return names | {name.split(".")[0] for name in names}


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_an_examples_usage_pastes_into_a_shell_and_installs_what_it_needs(path: Path) -> None:
    lines = usage_lines(path)
    assert not [line for line in lines if line.endswith("\\")]  # a continuation fails pasted
    commands = {line.split()[0] for line in lines if line}
    needed = {
        pip
        for module, pip in NOT_INSTALLED_WITH_US.items()
        if module in imported_modules(path) | commands
    }
    if needed and lines:  # a program with a usage says how to install what it needs
        installs = [line for line in lines if line.startswith("python3 -m pip install ")]
        assert installs, lines
        assert needed <= set(installs[0].split("#")[0].split()[4:])


def load_example(name: str = "status_service") -> ModuleType:
    """A fresh copy of ``examples/<name>.py`` (so a fresh app each test)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def point_examples_at(server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment an example reads its service's address and key from, set to ``server``."""
    monkeypatch.setenv("LLAMA_CLOUD_BASE_URL", server.url)
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", API_KEY)
    monkeypatch.setenv("WEBHOOK_SECRET", "whsec_examples")  # as every worker reads it


async def test_200_concurrent_requests_share_one_client_session(
    server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = server.seed_jobs(1000)
    server.latency = 0.01
    point_examples_at(server, monkeypatch)
    example = load_example()

    sessions: list[aiohttp.ClientSession] = []
    original_init = aiohttp.ClientSession.__init__

    def counting_init(self: aiohttp.ClientSession, *args: object, **kwargs: object) -> None:
        sessions.append(self)
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with TestClient(TestServer(example.create_app())) as http:
            app_client = http.app[example.CLIENT]

            async def ask(number: int) -> None:
                wanted = [ids[(number * 7 + k) % len(ids)] for k in range(5)] + ["cls-unknown"]
                response = await http.get("/jobs/status", params=[("id", i) for i in wanted])
                assert response.status == 200, await response.text()
                body = await response.json()
                assert set(body["jobs"]) == set(wanted[:5])
                assert body["unknown"] == ["cls-unknown"]

            # Sessions made while the requests run: the test's own client was made before.
            with monkeypatch.context() as patch:
                patch.setattr(aiohttp.ClientSession, "__init__", counting_init)
                await asyncio.gather(*(ask(number) for number in range(200)))
            assert http.app[example.CLIENT] is app_client
        assert app_client.closed
    assert len(sessions) == 1
    assert len(server.requests) == 200  # one batched list call per request
    assert [str(w.message) for w in caught] == []


async def test_bad_requests_are_answered_400(
    server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_examples_at(server, monkeypatch)
    async with TestClient(TestServer(load_example().create_app())) as http:
        assert (await http.get("/jobs/status")).status == 400
        assert (await http.get("/jobs/status?id=")).status == 400


# -- examples/fastapi_service.py under uvicorn ----------------------------------------------


@contextlib.asynccontextmanager
async def uvicorn_serving(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with a real uvicorn server on a free loopback port; yield its URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                raise RuntimeError("uvicorn stopped before it started serving")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@pytest.fixture
def fastapi_example(server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    point_examples_at(server, monkeypatch)
    return load_example("fastapi_service")


async def test_fastapi_service_serves_concurrent_requests_with_one_client_session(
    server: FakeClassifyServer, fastapi_example: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = server.seed_jobs(300)
    server.latency = 0.01
    app = fastapi_example.app
    sessions: list[aiohttp.ClientSession] = []
    original_init = aiohttp.ClientSession.__init__

    def counting_init(self: aiohttp.ClientSession, *args: object, **kwargs: object) -> None:
        sessions.append(self)
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]

    async with aiohttp.ClientSession() as http:  # the test's own, made before counting starts

        async def one(job_id: str) -> None:
            async with http.get(f"{url}/jobs/{job_id}") as response:
                assert response.status == 200, await response.text()
                body = await response.json()
            job = server.job(job_id)
            assert job is not None
            assert body["id"] == job_id
            assert body["status"] == job["status"]
            assert body["type"] == (job["result"] or {}).get("type")

        async def batch(number: int) -> None:
            wanted = [ids[(number * 11 + k) % len(ids)] for k in range(7)] + ["cls-unknown"]
            params = [("id", job_id) for job_id in wanted]
            async with http.get(f"{url}/jobs", params=params) as response:
                assert response.status == 200, await response.text()
                body = await response.json()
            assert list(body["jobs"]) == wanted[:7]
            assert body["unknown"] == ["cls-unknown"]

        with monkeypatch.context() as patch:
            patch.setattr(aiohttp.ClientSession, "__init__", counting_init)
            async with uvicorn_serving(app) as url:
                client = app.state.classify
                await asyncio.gather(*(one(i) for i in ids[:100]), *(batch(n) for n in range(20)))
                assert app.state.classify is client
    assert client.closed
    assert len(sessions) == 1
    # The 20 batch lookups are a list call each; the 100 handlers' get_job calls, pending at
    # once on the one client, were coalesced into batched list calls (a lone one is a GET).
    assert len(server.requests) < 100 + 20
    asked = {value for r in server.requests for key, value in r.query if key == "job_ids"}
    asked |= {r.path.rsplit("/", 1)[1] for r in server.requests if r.route.endswith("{job_id}")}
    assert set(ids[:100]) <= asked
    # Nothing of uvicorn's or of the app's client left running (the fake, still serving, has its
    # own tasks: not counted).
    leftovers = [repr(t) for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    fakes = [t for t in leftovers if "aio_classify/testing/" in t]
    assert [t for t in leftovers if "uvicorn" in t or "aio_classify" in t] == fakes


async def test_fastapi_service_maps_errors_to_http_answers(
    server: FakeClassifyServer, fastapi_example: ModuleType
) -> None:
    async with aiohttp.ClientSession() as http, uvicorn_serving(fastapi_example.app) as url:

        async def answer(method: str, path: str, **options: Any) -> tuple[int, Any, Any]:
            async with http.request(method, url + path, **options) as response:
                return response.status, response.headers, await response.json()

        status, _, body = await answer("GET", "/jobs/cls-unknown")
        assert (status, body) == (404, {"detail": "no such job"})

        server.fail_next(500, count=3, retry_after=0, body={"detail": "stack trace: secret"})
        status, _, body = await answer("GET", "/jobs/cls-1")
        assert (status, body) == (502, {"detail": "the classify service failed"})

        new_job = {"file_input": "dfl-invoice-7.pdf", "rules": {"invoice": "Has an invoice no."}}
        status, _, body = await answer("POST", "/jobs", json=new_job)
        assert status == 201
        assert body["status"] == "PENDING"
        assert server.job(body["id"]) is not None

        server.reset_stats()
        short = {"file_input": "dfl-x.pdf", "rules": {"invoice": "short"}}
        status, _, body = await answer("POST", "/jobs", json=short)
        assert status == 422
        assert "description" in body["detail"]
        assert server.requests == []  # refused before any request

        status, _, _ = await answer("GET", "/jobs")
        assert status == 422

        # Rate-limited on every attempt (1 + 2 retries): 503, with the service's last hint.
        # Last, as a client may hold back its next calls for a while after a 429 with a hint.
        server.fail_next(429, count=2, retry_after=0)
        server.fail_next(429, retry_after=7)
        server.reset_stats()
        status, headers, body = await answer("GET", "/jobs/cls-1")
        assert (status, headers["Retry-After"]) == (503, "7")
        assert "busy" in body["detail"]
        assert len(server.requests) == 3
    assert fastapi_example.app.state.classify.closed


def only_event_lookups_after_the_first_check(server: FakeClassifyServer, ids: set[str]) -> None:
    """The first look asks about every job; every later look only about jobs whose event came."""
    lookups = [
        {value for key, value in request.query if key == "job_ids"}
        for request in server.requests
        if request.method == "GET"
    ]
    announced = {d.job_id for d in server.webhooks.deliveries if d.outcome == "delivered"}
    assert lookups[0] == ids
    assert all(lookup <= announced for lookup in lookups[1:])


def load_webhook_example(
    name: str, server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    """A webhook example pointed at ``server``, whose jobs end within 0.2 s; the example derives
    its webhook URL from the requests it serves."""
    server.lifecycle = Lifecycle(running_after=0.05, finish_after=0.2)
    point_examples_at(server, monkeypatch)
    monkeypatch.delenv("WEBHOOK_PUBLIC_URL", raising=False)
    return load_example(name)


async def test_the_aiohttp_webhook_service_waits_on_its_own_webhooks(
    server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_webhook_example("webhook_service", server, monkeypatch)
    async with TestClient(TestServer(example.create_app())) as http:
        response = await http.post("/classify", json={"file_inputs": ["dfl-a", "dfl-b", "dfl-c"]})
        assert response.status == 200, await response.text()
        answer = await response.json()
        hook = str(http.make_url(example.HOOK_PATH))
        forged = await http.post(example.HOOK_PATH, data=b'{"event_id": "x"}')
        assert forged.status == 401  # unsigned: refused
        assert (await http.post("/classify", json={"file_inputs": []})).status == 400
    assert [job["status"] for job in answer.values()] == ["COMPLETED"] * 3
    deliveries = server.webhooks.deliveries
    assert {(d.url, d.outcome) for d in deliveries} == {(hook, "delivered")}
    assert {d.job_id for d in deliveries} == set(answer)
    only_event_lookups_after_the_first_check(server, set(answer))


async def test_the_fastapi_webhook_service_under_uvicorn(
    server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_webhook_example("webhook_fastapi", server, monkeypatch)
    async with (
        uvicorn_serving(example.app) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        response = await http.post("/classify", json={"file_inputs": ["dfl-a", "dfl-b"]})
        assert response.status_code == 200, response.text
        answer = response.json()
        forged = await http.post(example.HOOK_PATH, content=b"{}")
        assert forged.status_code == 401
        garbage = b"not an event"
        signed = {"LC-Signature": sign(garbage, example.SECRET)}
        assert (
            await http.post(example.HOOK_PATH, content=garbage, headers=signed)
        ).status_code == 400
        huge = b" " * (MAX_BODY_BYTES + 1)
        assert (await http.post(example.HOOK_PATH, content=huge)).status_code == 413
    assert [job["status"] for job in answer.values()] == ["COMPLETED"] * 2
    assert {d.outcome for d in server.webhooks.deliveries} == {"delivered"}
    assert example.app.state.client.closed
    only_event_lookups_after_the_first_check(server, set(answer))
