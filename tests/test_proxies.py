"""Proxies: ``proxy=`` and ``HTTP(S)_PROXY`` / ``NO_PROXY``, through a tiny real forwarding
proxy on loopback (an aiohttp server taking absolute-form requests and passing them to the fake),
and a proxy's credentials kept out of messages, logs and ``repr``."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web

from aio_classify import APIConnectionError, ClassifyClient
from aio_classify.testing import FakeClassifyServer

from helpers import API_KEY, FAST_RETRIES, serve

PASSWORD = "proxy-pa55word-0123456789"


class ForwardingProxy:
    """What the proxy saw: each request's target and its ``Proxy-Authorization``."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.url = ""

    async def forward(self, request: web.Request) -> web.Response:
        target = str(request.url)  # absolute-form: the whole target URL
        self.seen.append((target, request.headers.get("Proxy-Authorization")))
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in {"host", "proxy-authorization", "proxy-connection"}
        }
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, target, headers=headers, data=await request.read()
            ) as answer,
        ):
            return web.Response(
                status=answer.status,
                body=await answer.read(),
                headers={"Content-Type": answer.content_type},
            )


@asynccontextmanager
async def forwarding_proxy() -> AsyncIterator[ForwardingProxy]:
    proxy = ForwardingProxy()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.forward)
    async with serve(app) as url:
        proxy.url = url
        yield proxy


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.parametrize(
    ("no_proxy", "proxied"),
    [(None, True), ("localhost,127.0.0.1", False), ("example.com", True), ("*", False)],
)
async def test_http_proxy_from_the_environment_is_used_for_loopback_unless_no_proxy_says(
    server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch, no_proxy: str | None, proxied: bool
) -> None:
    (job_id,) = server.seed_jobs(1)
    async with forwarding_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        if no_proxy is not None:
            monkeypatch.setenv("NO_PROXY", no_proxy)
        async with ClassifyClient(API_KEY, base_url=server.url) as client:
            assert (await client.get_job(job_id)).id == job_id
    expected = [(f"{server.url}/api/v2/classify/{job_id}", None)] if proxied else []
    assert proxy.seen == expected
    assert server.requests[0].authorized  # the key reached the service, through the proxy or not


async def test_an_explicit_proxy_wins_and_gets_its_credentials_alone(
    server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    (job_id,) = server.seed_jobs(1)
    monkeypatch.setenv("NO_PROXY", "*")  # proxy= is not subject to the environment
    async with forwarding_proxy() as proxy:
        with_credentials = proxy.url.replace("http://", f"http://user:{PASSWORD}@")
        async with ClassifyClient(API_KEY, base_url=server.url, proxy=with_credentials) as client:
            await client.with_options(timeout=5.0).get_job(job_id)
            assert PASSWORD not in repr(client) and PASSWORD not in repr(client._transport)
    ((target, credentials),) = proxy.seen
    expected = "Basic " + base64.b64encode(f"user:{PASSWORD}".encode()).decode()
    assert target.endswith(f"/api/v2/classify/{job_id}") and credentials == expected
    assert "Proxy-Authorization" not in server.requests[0].headers


async def test_a_proxys_password_never_reaches_a_message_or_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    proxy = f"http://user:{PASSWORD}@127.0.0.1:1"  # nothing listens there
    async with ClassifyClient(
        API_KEY, base_url="http://127.0.0.1:2", proxy=proxy, retry_policy=FAST_RETRIES
    ) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.with_options(max_retries=1).get_job("cls-1")
        assert PASSWORD not in repr(client)
    assert "cannot connect to the proxy http://127.0.0.1:1 " in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert caplog.records and all(PASSWORD not in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("proxy", "error"),
    [
        (f"socks5://user:{PASSWORD}@127.0.0.1:1080", ValueError),
        (f"user:{PASSWORD}@proxy.example", ValueError),
        ("http://", ValueError),
        (8080, TypeError),
    ],
)
def test_a_proxy_that_is_not_an_http_url_is_refused_without_repeating_it(
    proxy: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match="proxy") as caught:
        ClassifyClient(API_KEY, base_url="http://127.0.0.1:1", proxy=proxy)  # type: ignore[arg-type]
    assert PASSWORD not in str(caught.value)
