"""The examples, served on loopback against the fake: ``status_service.py`` under load (200
concurrent requests, one client session); the webhook services (aiohttp.web and FastAPI under
uvicorn) waiting on the fake's deliveries to themselves."""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import warnings
from pathlib import Path
from types import ModuleType

import aiohttp
import httpx
import pytest
import uvicorn
from aiohttp.test_utils import TestClient, TestServer

from aio_classify.testing import FakeClassifyServer, Lifecycle
from aio_classify.webhooks import MAX_BODY_BYTES, sign

from helpers import API_KEY

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "status_service.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("status_service", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_200_concurrent_requests_share_one_client_session(
    server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = server.seed_jobs(1000)
    server.latency = 0.01
    monkeypatch.setenv("LLAMA_CLOUD_BASE_URL", server.url)
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", API_KEY)
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
    monkeypatch.setenv("LLAMA_CLOUD_BASE_URL", server.url)
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", API_KEY)
    async with TestClient(TestServer(load_example().create_app())) as http:
        assert (await http.get("/jobs/status")).status == 400
        assert (await http.get("/jobs/status?id=")).status == 400


def load(name: str) -> ModuleType:
    path = EXAMPLE.parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


async def test_the_aiohttp_webhook_service_waits_on_its_own_webhooks(
    server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.lifecycle = Lifecycle(running_after=0.05, finish_after=0.2)
    monkeypatch.setenv("LLAMA_CLOUD_BASE_URL", server.url)
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", "test-key")
    monkeypatch.delenv("WEBHOOK_PUBLIC_URL", raising=False)
    example = load("webhook_service")
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
    server.lifecycle = Lifecycle(running_after=0.05, finish_after=0.2)
    monkeypatch.setenv("LLAMA_CLOUD_BASE_URL", server.url)
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", "test-key")
    monkeypatch.delenv("WEBHOOK_PUBLIC_URL", raising=False)
    example = load("webhook_fastapi")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    web_server = uvicorn.Server(uvicorn.Config(example.app, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(web_server.serve(sockets=[listener]))
    try:
        while not web_server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
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
    finally:
        web_server.should_exit = True
        await serving
        listener.close()
    assert [job["status"] for job in answer.values()] == ["COMPLETED"] * 2
    assert {d.outcome for d in server.webhooks.deliveries} == {"delivered"}
    assert example.app.state.client.closed
    only_event_lookups_after_the_first_check(server, set(answer))
