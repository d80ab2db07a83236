"""A tiny HTTP server on loopback that answers exactly what a test scripts: any status, any
headers, any bytes (even endless or broken ones). For hostile-server tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

KEY = "sk-hostile-test-0123456789"


class Scripted:
    """``url`` to point a client at; ``requests`` every request seen (method, path and query)."""

    def __init__(self, url: str, requests: list[web.Request]) -> None:
        self.url = url
        self.requests = requests


@asynccontextmanager
async def scripted(handler: Handler) -> AsyncIterator[Scripted]:
    requests: list[web.Request] = []

    async def record(request: web.Request) -> web.StreamResponse:
        requests.append(request)
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    # Long request lines allowed: a test may send a page token of 100 KB back.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, max_line_size=2**20)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield Scripted(f"http://{host}:{port}", requests)
    finally:
        await runner.cleanup()


def answers(*responses: Callable[[], web.StreamResponse]) -> Handler:
    """A handler giving each response in turn, the last one to every later request."""
    index = 0

    async def handle(_: web.Request) -> web.StreamResponse:
        nonlocal index
        make = responses[min(index, len(responses) - 1)]
        index += 1
        return make()

    return handle


def job(job_id: str = "cls-1", status: str = "COMPLETED", **fields: object) -> dict[str, object]:
    return {"id": job_id, "status": status, **fields}


def json_body(
    payload: object, status: int = 200, headers: dict[str, str] | None = None
) -> Callable[[], web.Response]:
    return lambda: web.json_response(payload, status=status, headers=headers)


def raw(
    body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> Callable[[], web.Response]:
    return lambda: web.Response(
        body=body, status=status, headers=headers, content_type="application/json"
    )
