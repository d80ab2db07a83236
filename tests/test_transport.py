"""The HTTP layer through the client: the bearer token, per-attempt timeouts, whose session is
used and closed, sharing one client, and an Authorization header that never leaves
``base_url``'s origin, even when a server redirects; and, with no socket at all (a ``Send`` of our
own in place of aiohttp), everything above the seam: retries, turns, decoding and error mapping."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from aio_classify import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ClassifyClient,
    NotFoundError,
    RetryPolicy,
)
from aio_classify._http.answers import Outcome
from aio_classify._http.exchange import Reply
from aio_classify._http.protocol import Query
from aio_classify._http.request_options import CallOptions
from aio_classify._http.throttle import AdaptiveLimiter
from aio_classify._http.transport import Transport
from aio_classify.testing import FakeClassifyServer

from helpers import API_KEY, FAST_RETRIES, scripted


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[str, list[str | None]]]:
    """Another origin on loopback that records the Authorization header it receives."""
    seen: list[str | None] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({"id": "x", "status": "COMPLETED"})

    async with scripted(record) as other:
        yield other.url, seen


async def test_redirect_to_another_origin_is_not_followed(
    elsewhere: tuple[str, list[str | None]],
) -> None:
    other_url, seen = elsewhere

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"{other_url}{request.path_qs}")

    async with (
        scripted(redirect) as origin,
        ClassifyClient("sk-secret", base_url=origin.url) as client,
    ):
        with pytest.raises(APIStatusError) as caught:
            await client.get_job("x")
    assert caught.value.status_code == 307
    assert seen == []  # the other origin never got a request, let alone the key


async def test_bearer_token_sent_and_checked(server: FakeClassifyServer) -> None:
    server.seed_jobs(1)
    async with ClassifyClient("wrong-key", base_url=server.url) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.list_jobs().first_page()
    assert "wrong-key" not in str(caught.value)
    (request,) = server.requests  # a 401 is not retried
    assert request.headers["Authorization"] == "Bearer [redacted]"
    assert request.authorized is False


async def test_timeout_is_per_attempt_and_retried(server: FakeClassifyServer) -> None:
    (job_id,) = server.seed_jobs(1)
    server.latency = 1.0
    async with ClassifyClient(
        API_KEY,
        base_url=server.url,
        timeout=0.1,
        max_retries=1,
        retry_policy=RetryPolicy(initial_backoff=0.01, jitter=0.0),
    ) as client:
        with pytest.raises(APITimeoutError, match="timed out"):
            await client.get_job(job_id)
    assert len(server.requests) == 2


async def test_injected_session_is_used_and_left_open(server: FakeClassifyServer) -> None:
    (job_id,) = server.seed_jobs(1)
    async with aiohttp.ClientSession() as session:
        async with ClassifyClient(API_KEY, base_url=server.url, session=session) as client:
            assert (await client.get_job(job_id)).id == job_id
        assert not session.closed
        async with session.get(f"{server.url}/api/v2/classify/{job_id}") as response:
            assert response.status == 401  # still usable, and our header did not stick to it


async def test_injected_session_settings_do_not_change_error_handling(
    server: FakeClassifyServer,
) -> None:
    async with (
        aiohttp.ClientSession(raise_for_status=True) as session,
        ClassifyClient(API_KEY, base_url=server.url, session=session) as client,
    ):
        with pytest.raises(NotFoundError):
            await client.get_job("cls-missing")
    assert len(server.requests) == 1  # a 404, not a retried "connection error"


async def test_owned_session_is_closed_on_exit(server: FakeClassifyServer) -> None:
    (job_id,) = server.seed_jobs(1)
    client = ClassifyClient(API_KEY, base_url=server.url)
    async with client:
        await client.get_job(job_id)
        session = await client._transport._get_session()
        assert not session.closed
    assert session.closed and client.closed


def test_client_made_outside_a_loop_works_inside_one() -> None:
    async def scenario() -> str:
        async with FakeClassifyServer(API_KEY) as fake:
            (job_id,) = fake.seed_jobs(1)
            client = ClassifyClient(API_KEY, base_url=fake.url)
            assert not client._transport._sessions._by_loop  # nothing made before first use
            async with client:
                return (await client.get_job(job_id)).id

    assert asyncio.run(scenario()).startswith("cls-")


async def test_one_client_shared_by_many_tasks(server: FakeClassifyServer) -> None:
    ids = server.seed_jobs(200)
    server.latency = 0.01
    async with ClassifyClient(API_KEY, base_url=server.url, max_connections=5) as client:
        jobs = await asyncio.gather(*(client.get_job(job_id) for job_id in ids))
    assert [job.id for job in jobs] == ids
    assert server.max_in_flight <= 5


async def test_a_refused_connection_names_the_url_in_plain_words() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with ClassifyClient(API_KEY, base_url=f"http://127.0.0.1:{port}", max_retries=0) as c:
        with pytest.raises(APIConnectionError) as caught:
            await c.get_job("cls-1")
    assert str(caught.value) == (
        f"GET /api/v2/classify/cls-1 failed: cannot connect to http://127.0.0.1:{port} "
        "(Connection refused)"
    )


async def test_an_unknown_host_names_the_url_without_aiohttps_ssl_default() -> None:
    url = "https://no-such-host.invalid"
    async with ClassifyClient(API_KEY, base_url=url, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.get_job("cls-1")
    message = str(caught.value)
    assert message.startswith(f"GET /api/v2/classify/cls-1 failed: cannot connect to {url} (")
    assert "ssl:default" not in message


# -- above the seam, without a socket -----------------------------------------------------------


class Script:
    """A ``Send`` that answers from a list and records what it was asked."""

    def __init__(self, *replies: tuple[int, Mapping[str, str], bytes]) -> None:
        self.replies = list(replies)
        self.sent: list[tuple[str, str, Query, Any]] = []

    async def __call__(self, method: str, url: URL, params: Query, json: Any) -> Reply:
        self.sent.append((method, str(url), params, json))
        return self.replies.pop(0)


#: A key long enough to be scrubbed (``sanitize.MIN_SECRET_CHARS``).
LONG_KEY = "llx-0123456789abcdef"


def transport_for(script: Script, **limiters: AdaptiveLimiter) -> Transport:
    return Transport(
        base_url=URL("https://cloud.example/base/"),
        api_key=LONG_KEY,
        options=CallOptions.checked(timeout=5.0, max_retries=5, retry_policy=FAST_RETRIES),
        max_connections=1,
        session=None,
        limiters=limiters,  # type: ignore[arg-type]
        send=script,
    )


async def test_a_retryable_status_is_sent_again_and_the_2xx_body_decoded() -> None:
    script = Script((503, {"retry-after-ms": "1"}, b"busy"), (200, {}, b'{"id": "j1"}'))
    transport = transport_for(script)
    query = [("project_id", "p")]
    found = await transport.request(
        "POST", "/api/v2/classify", kind="create", params=query, json={"a": 1}, decode=json.loads
    )
    assert found == {"id": "j1"}
    assert (
        script.sent == [("POST", "https://cloud.example/base/api/v2/classify", query, {"a": 1})] * 2
    )


async def test_an_error_status_is_mapped_and_not_retried_and_the_key_never_shows() -> None:
    script = Script((404, {}, b'{"detail": "no job j9 for ' + LONG_KEY.encode() + b'"}'))
    transport = transport_for(script)
    with pytest.raises(NotFoundError) as caught:
        await transport.request("GET", "/api/v2/classify/j9", kind="get", decode=json.loads)
    assert (
        str(caught.value) == "GET /base/api/v2/classify/j9 answered 404: no job j9 for [redacted]"
    )
    assert len(script.sent) == 1


class RecordingLimiter(AdaptiveLimiter):
    """The real limiter, keeping a note of each report it is given."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind, cap=None, adaptive=True)
        self.reports: list[tuple[Outcome, float | None]] = []

    def report(self, turn: float, outcome: Outcome, retry_after: float | None = None) -> None:
        self.reports.append((outcome, retry_after))
        super().report(turn, outcome, retry_after)


async def test_a_429_reaches_the_limiter_of_its_call_kind_with_its_hint() -> None:
    limiter = RecordingLimiter("get")
    script = Script((429, {"retry-after-ms": "2"}, b"{}"), (200, {}, b"[]"))
    transport = transport_for(script, get=limiter)
    assert await transport.request("GET", "/x", kind="get", decode=json.loads) == []
    assert limiter.reports == [(Outcome.THROTTLED, 0.002), (Outcome.SUCCESS, None)]
    assert limiter.rate is not None and limiter.throttled


async def test_a_closed_transport_sends_nothing() -> None:
    script = Script()
    transport = transport_for(script)
    await transport.close()
    with pytest.raises(RuntimeError, match="closed"):
        await transport.request("GET", "/x", kind="get", decode=json.loads)
    assert script.sent == []


async def test_a_status_error_carries_the_fakes_request_id_and_the_debug_log_too(
    server: FakeClassifyServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aio_classify")
    async with ClassifyClient(API_KEY, base_url=server.url, retry_policy=FAST_RETRIES) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.get_job("cls-missing")
    request_id = caught.value.request_id
    assert request_id is not None and re.fullmatch(r"req_[0-9a-f]{24}", request_id)
    assert str(caught.value).endswith(f"(request id {request_id})")
    (line,) = [r for r in caplog.records if "-> 404" in r.getMessage()]
    assert line.getMessage().endswith(f"(request id {request_id})")
    assert line.request_id == request_id  # type: ignore[attr-defined]


async def test_the_fake_sends_a_fresh_request_id_with_every_answer(
    server: FakeClassifyServer, http: aiohttp.ClientSession
) -> None:
    (job_id,) = server.seed_jobs(1)
    ids = set()
    for path in (f"/api/v2/classify/{job_id}", "/api/v2/classify/nope", "/no/route"):
        async with http.get(path) as response:
            ids.add(response.headers["x-request-id"])
    assert len(ids) == 3
