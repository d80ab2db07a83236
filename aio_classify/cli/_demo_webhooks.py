"""The demo's side-by-side of the two ways to wait: polling, and webhook events.

Two sets of fresh jobs finish at random over the same few seconds on the fake; one set is waited
for by polling (the library's default 1 s growing to 5 s), the other with ``events=receiver``,
the fake delivering its webhooks to a receiver served in this process. Both waits run at once;
what each cost (requests) and how late each saw its jobs (after the fake finished them) is shown.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from .._client import ClassifyClient
from .._core.models import ClassifyConfiguration, ClassifyJob, WebhookConfiguration
from ..testing import FakeClassifyServer
from ..webhooks import WebhookReceiver

__all__ = ["compare_waits"]

FINISH_WITHIN = 4.0
TERMINAL_EVENTS = ("classify.success", "classify.error", "classify.cancelled")


async def compare_waits(
    server: FakeClassifyServer,
    client: ClassifyClient,
    configuration: ClassifyConfiguration,
    count: int,
    say: Callable[[str], None],
) -> None:
    """Wait for ``count`` jobs by polling and ``count`` by events, side by side, and tell."""
    receiver = WebhookReceiver(secret="whsec_demo")
    runner = web.ServerRunner(web.Server(receiver.handle), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        hook = WebhookConfiguration(
            webhook_url=f"http://127.0.0.1:{runner.addresses[0][1]}/hooks",
            webhook_events=TERMINAL_EVENTS,
            webhook_signing_secret="whsec_demo",
        )
        polled = await _create(client, configuration, count, None)
        evented = await _create(client, configuration, count, hook)
        server.finish_later([*polled, *evented], within=FINISH_WITHIN, seed=1)
        say(f"  compare   {count} jobs waited for by polling, {count} by webhook events,")
        say(f"            at once, all finishing within {FINISH_WITHIN:.0f} s:")
        seen_polled, seen_evented = await asyncio.gather(
            _seen(client.watch_jobs(polled)), _seen(client.watch_jobs(evented, events=receiver))
        )
    finally:
        await runner.cleanup()
    finished = server.terminal_times()
    for name, ids, seen in (
        ("polling 1->5 s", polled, seen_polled),
        ("events=receiver", evented, seen_evented),
    ):
        asked = _lookups(server, set(ids))
        delay = statistics.mean(seen[job_id] - finished[job_id] for job_id in ids)
        line = f"{name:<16}{asked:>4} requests, each job seen {delay:.2f} s after it ended"
        say(" " * 12 + line)
    say("            (events: a lookup per 100 events, or per 0.2 s when fewer")
    say("            come; polling: a round per interval. With thousands of jobs")
    say("            ending, events cost fewer.)")


async def _create(
    client: ClassifyClient,
    configuration: ClassifyConfiguration,
    count: int,
    hook: WebhookConfiguration | None,
) -> list[str]:
    hooks = None if hook is None else [hook]
    limit = asyncio.Semaphore(16)

    async def create(number: int) -> str:
        async with limit:
            job = await client.create_job(
                f"dfl-compare-{number:04d}.pdf", configuration, webhook_configurations=hooks
            )
            return job.id

    return list(await asyncio.gather(*(create(number) for number in range(count))))


async def _seen(jobs: AsyncIterator[ClassifyJob]) -> dict[str, float]:
    """When each job was seen terminal (wall clock, as the fake stamps its jobs)."""
    seen: dict[str, float] = {}
    async for job in jobs:
        seen[job.id] = time.time()
    return seen


def _lookups(server: FakeClassifyServer, ids: set[str]) -> int:
    """Lookups the fake answered about these jobs only."""
    return sum(
        1
        for request in server.requests
        if request.method == "GET"
        and (asked := {value for key, value in request.query if key == "job_ids"})
        and asked <= ids
    )
