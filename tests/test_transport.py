"""The HTTP layer through the client: the bearer token, per-attempt timeouts, whose session is
used and closed, sharing one client, and an Authorization header that never leaves
``base_url``'s origin, even when a server redirects."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from aio_classify import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ClassifyClient,
    NotFoundError,
    RetryPolicy,
)
from aio_classify.testing import FakeClassifyServer

from helpers import API_KEY, scripted


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
