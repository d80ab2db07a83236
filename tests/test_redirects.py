"""The Authorization header never leaves ``base_url``'s origin, even when a server redirects."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from aio_classify import APIStatusError, ClassifyClient

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve(handler: Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[str, list[str | None]]]:
    """Another origin on loopback that records the Authorization header it receives."""
    seen: list[str | None] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({"id": "x", "status": "COMPLETED"})

    runner, url = await serve(record)
    yield url, seen
    await runner.cleanup()


async def test_redirect_to_another_origin_is_not_followed(
    elsewhere: tuple[str, list[str | None]],
) -> None:
    other_url, seen = elsewhere

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"{other_url}{request.path_qs}")

    runner, url = await serve(redirect)
    try:
        async with ClassifyClient("sk-secret", base_url=url) as client:
            with pytest.raises(APIStatusError) as caught:
                await client.get_job("x")
    finally:
        await runner.cleanup()
    assert caught.value.status_code == 307
    assert seen == []  # the other origin never got a request, let alone the key
