"""The fake server's per-route rate limits (``aio_classify.testing._ratelimit``), over real HTTP:
a token bucket per call kind, 429 with each kind of hint, scripted from Python and over
``/_fake/rate-limit``."""

from __future__ import annotations

import aiohttp
import pytest

from aio_classify.testing import FakeClassifyServer

from helpers import LIST

INVOICES = {"rules": [{"type": "invoice", "description": "A bill asking for payment"}]}


async def statuses(http: aiohttp.ClientSession, count: int, path: str = LIST) -> list[int]:
    result = []
    for _ in range(count):
        async with http.get(path) as response:
            result.append(response.status)
    return result


@pytest.mark.parametrize(
    ("hint", "header"), [("seconds", "Retry-After"), ("ms", "retry-after-ms"), ("none", None)]
)
async def test_a_burst_passes_then_429_carries_the_hint_asked_for(
    server: FakeClassifyServer, http: aiohttp.ClientSession, hint: str, header: str | None
) -> None:
    server.set_rate_limit("list", 0.5, burst=3, hint=hint)
    assert await statuses(http, 3) == [200, 200, 200]
    async with http.get(LIST) as response:
        assert response.status == 429
        assert (await response.json())["detail"]
        hints = {k for k in response.headers if k.lower() in {"retry-after", "retry-after-ms"}}
        assert hints == ({header} if header else set())
        if hint == "seconds":
            assert response.headers["Retry-After"] == "2"  # 1 token at 0.5/s, whole seconds
        if hint == "ms":
            assert 1900 <= int(response.headers["retry-after-ms"]) <= 2000
    assert [throttled for _, throttled in server.rate_limit_log["list"]] == [False] * 3 + [True]


async def test_a_limit_holds_for_its_route_only_and_can_be_lifted(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    (job_id,) = server.seed_jobs(1)
    server.set_rate_limit("get", 0.1, burst=1)
    assert await statuses(http, 2, f"{LIST}/{job_id}") == [200, 429]
    assert await statuses(http, 3) == [200, 200, 200]  # list is another route
    async with http.post(LIST, json={"file_input": "dfl-1", "configuration": INVOICES}) as response:
        assert response.status == 200
    server.set_rate_limit("get", None)
    assert await statuses(http, 2, f"{LIST}/{job_id}") == [200, 200]
    assert set(server.rate_limit_log) == {"get"}


def test_tokens_refill_at_the_rate_up_to_the_burst() -> None:
    server = FakeClassifyServer()
    server.set_rate_limit("list", 2, burst=3)
    bucket = server.rate_limits.buckets["list"]
    assert [bucket.take() is None for _ in range(4)] == [True, True, True, False]
    bucket.updated -= 1.0  # as if a second had passed: two tokens
    assert [bucket.take() is None for _ in range(3)] == [True, True, False]
    bucket.updated -= 60.0  # a minute: no more than the burst
    assert [bucket.take() is None for _ in range(4)] == [True, True, True, False]


@pytest.mark.parametrize(
    ("call", "rate", "burst", "hint", "word"),
    [
        ("lists", 1.0, 1.0, "seconds", "call"),
        ("list", 0, 1.0, "seconds", "rate"),
        ("list", -1.0, 1.0, "seconds", "rate"),
        ("list", float("nan"), 1.0, "seconds", "rate"),
        ("list", 1.0, 0.5, "seconds", "burst"),
        ("list", 1.0, 1.0, "minutes", "hint"),
    ],
)
def test_bad_limits_are_refused(call: str, rate: float, burst: float, hint: str, word: str) -> None:
    server = FakeClassifyServer()
    with pytest.raises(ValueError, match=word):
        server.set_rate_limit(call, rate, burst=burst, hint=hint)


async def test_admin_route_sets_reports_and_lifts_limits(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    body = {"call": "list", "rate": 0.5, "burst": 2, "hint": "ms"}
    async with http.post("/_fake/rate-limit", json=body) as response:
        assert response.status == 200
        assert (await response.json())["limits"] == {
            "list": {"rate": 0.5, "burst": 2.0, "hint": "ms"}
        }
    assert await statuses(http, 3) == [200, 200, 429]
    async with http.get("/_fake/rate-limit") as response:
        report = await response.json()
    assert report["answers"] == {"list": {"allowed": 2, "throttled": 1}}
    assert [throttled for _, throttled in report["log"]["list"]] == [False, False, True]
    async with http.post("/_fake/rate-limit", json={"call": "list", "rate": None}) as response:
        assert (await response.json())["limits"] == {}
    assert await statuses(http, 2) == [200, 200]
    async with http.post("/_fake/reset-stats") as response:
        assert response.status == 200
    assert server.rate_limit_log == {}


async def test_admin_route_refuses_bad_limits_and_wrong_keys(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    async with http.post("/_fake/rate-limit", json={"call": "list", "rate": -1}) as response:
        assert response.status == 422
    async with http.post("/_fake/rate-limit", json={"rate": 1}) as response:
        assert response.status == 422
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(f"{server.url}/_fake/rate-limit") as response,
    ):
        assert response.status == 401
    assert server.rate_limits.buckets == {}
