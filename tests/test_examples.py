"""``examples/status_service.py`` under load: 200 concurrent requests, one client session."""

from __future__ import annotations

import asyncio
import importlib.util
import warnings
from pathlib import Path
from types import ModuleType

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from aio_classify.testing import FakeClassifyServer

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
