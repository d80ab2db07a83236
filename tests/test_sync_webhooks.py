"""A ``WebhookReceiver`` fed outside the sync client's loop, its waits ending on the events.

The fake delivers real webhooks over loopback: to a WSGI app (the stdlib's ``wsgiref`` server in
a thread, as a Flask or Django view would take them: ``receiver.accept(body, headers)``), and to
``receiver.handle`` served by aiohttp on an event loop of its own. The waits run on the sync
client's private loop with polling set to an hour, so only the events can end them in time.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from aiohttp import web

from aio_classify import WebhookConfiguration
from aio_classify.sync import ClassifyClient
from aio_classify.webhooks import WebhookReceiver

from helpers import API_KEY, CONFIG, FAST_RETRIES, WEBHOOK_SECRET, ThreadedFake, eventually, serve

HOUR = 3600.0
Environ = dict[str, Any]
StartResponse = Callable[[str, list[tuple[str, str]]], object]


def wsgi_view(receiver: WebhookReceiver) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """What a Flask / Django view does: hand the raw body and the headers to ``accept``."""

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {
            name[5:].replace("_", "-"): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        try:
            receiver.accept(body, headers)
        except ValueError:  # a bad signature (WebhookSignatureError) or not an event
            start_response("400 Bad Request", [])
            return [b""]
        start_response("204 No Content", [])
        return [b""]

    return app


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def wsgi_endpoint(receiver: WebhookReceiver) -> Iterator[str]:
    server: WSGIServer = make_server("127.0.0.1", 0, wsgi_view(receiver), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def aiohttp_endpoint(receiver: WebhookReceiver) -> Iterator[str]:
    """``receiver.handle`` served by aiohttp on its own loop, in its own thread."""
    ready = threading.Event()
    found: dict[str, Any] = {}

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/hooks", receiver.handle)
        async with serve(app) as url:
            found.update(url=f"{url}/hooks", loop=asyncio.get_running_loop(), stop=asyncio.Event())
            ready.set()
            await found["stop"].wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    ready.wait()
    try:
        yield found["url"]
    finally:
        found["loop"].call_soon_threadsafe(found["stop"].set)
        thread.join()


ENDPOINTS = {"wsgi": wsgi_endpoint, "aiohttp": aiohttp_endpoint}


@pytest.fixture
def fake() -> Iterator[ThreadedFake]:
    with ThreadedFake() as fake:
        yield fake


def hooked_job(client: ClassifyClient, url: str) -> str:
    hook = WebhookConfiguration(
        webhook_url=url,
        webhook_signing_secret=WEBHOOK_SECRET,
        webhook_events=("classify.success",),
    )
    job_id: str = client.create_job("dfl-1", CONFIG, webhook_configurations=[hook]).id
    return job_id


def complete_once_looked_at(fake: ThreadedFake, job_ids: list[str]) -> threading.Thread:
    """Complete the jobs once each has been looked up once (the wait has subscribed by then)."""

    def looked_at() -> bool:
        seen = fake.call(lambda: " ".join(str(r.query) + r.path for r in fake.server.requests))
        return all(job_id in seen for job_id in job_ids)

    def complete() -> None:
        assert eventually(looked_at)
        for job_id in job_ids:
            fake.call(lambda job_id=job_id: fake.server.complete(job_id))

    thread = threading.Thread(target=complete)
    thread.start()
    return thread


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_waits_on_the_private_loop_end_on_events_fed_from_elsewhere(
    fake: ThreadedFake, endpoint: str
) -> None:
    receiver = WebhookReceiver(secret=WEBHOOK_SECRET)
    slow = {"poll_interval": HOUR, "max_interval": HOUR, "fallback_interval": HOUR}
    with (
        ENDPOINTS[endpoint](receiver) as url,
        ClassifyClient(API_KEY, base_url=fake.url, retry_policy=FAST_RETRIES) as client,
    ):
        one = hooked_job(client, url)
        completing = complete_once_looked_at(fake, [one])
        job = client.wait_for_job(one, events=receiver, timeout=60, **slow)
        completing.join()
        assert job.status == "COMPLETED"

        many = [hooked_job(client, url) for _ in range(3)]
        completing = complete_once_looked_at(fake, many)
        watched = [job.id for job in client.watch_jobs(many, events=receiver, timeout=60, **slow)]
        completing.join()
        assert sorted(watched) == sorted(many)
