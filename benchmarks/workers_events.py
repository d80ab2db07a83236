"""bench_workers (a): worker processes behind one port, each waiting on its jobs' webhook events.

Each worker serves the webhook path on the same port (``SO_REUSEPORT``: the kernel spreads the
fake's deliveries over the workers, as ``uvicorn --workers`` does), creates its share of the jobs
with a webhook back to that port, and waits for each (``wait_for_job(events=receiver)``, the
default 30 s fallback round, as a request handler waiting for its job would). Every delivery is
sent twice. Measured: the delay from a job turning terminal on the server to its wait returning
(mean / p95), and the events handled more than once. (``watch_jobs`` / ``wait_for_jobs`` over many
ids would add up to ``polling.COALESCE_WINDOW``, 0.2 s, per event: they gather events to share
lookups, by design, with one worker as with several.)
"Handled" is what a receiver hands on to the waits: without a coordinator, an ``accept`` that
returns the event (a worker fans it out to its own waits); with one, a publish on the shared
channel (counted by a subscriber here), since there a duplicate is dropped after ``accept``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from collections import Counter
from typing import Any

import aiohttp
from fakeproc import Admin

SECRET = "whsec_bench_workers"
NAMESPACE = "bench-events"
TERMINAL = ("classify.success", "classify.error", "classify.cancelled")
RULES = {"rules": [{"type": "invoice", "description": "Has an invoice number."}]}


def worker(
    url: str, key: str, redis_url: str | None, port: int, jobs: int, queues: Any, events: Any
) -> None:
    """One worker: serve the hook, create ``jobs`` jobs, watch them once told to go."""
    from aiohttp import web

    from aio_classify import ClassifyClient, WebhookConfiguration
    from aio_classify.redis import RedisCoordinator
    from aio_classify.webhooks import WebhookReceiver

    ready, out = queues
    go, stop = events

    async def run() -> None:
        coordinator = RedisCoordinator(redis_url, namespace=NAMESPACE) if redis_url else None
        receiver = WebhookReceiver(secret=SECRET, coordinator=coordinator)
        handled: list[str] = []

        async def hook(request: web.Request) -> web.Response:
            event = receiver.accept(await request.read(), request.headers)
            await receiver.flush()
            if coordinator is None and event is not None and event.is_terminal:
                handled.append(event.job_id)
            return web.Response(status=204)

        app = web.Application()
        app.router.add_post("/hooks", hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, reuse_port=True).start()
        hooks = [
            WebhookConfiguration(
                webhook_url=f"http://127.0.0.1:{port}/hooks",
                webhook_events=TERMINAL,
                webhook_signing_secret=SECRET,
            )
        ]
        try:
            async with ClassifyClient(key, base_url=url, coordinator=coordinator) as client:
                created = await asyncio.gather(
                    *(
                        client.create_job("dfl-events.pdf", RULES, webhook_configurations=hooks)
                        for _ in range(jobs)
                    )
                )
                ids = [job.id for job in created]
                ready.put(ids)
                await asyncio.to_thread(go.wait)
                seen_at: dict[str, float] = {}

                async def wait(job_id: str) -> None:  # as a request handler waits for its job
                    await client.wait_for_job(job_id, events=receiver, raise_on_failure=False)
                    seen_at[job_id] = time.time()

                await asyncio.gather(*(wait(job_id) for job_id in ids))
                out.put((seen_at, handled))
                await asyncio.to_thread(stop.wait)  # keep serving the others' deliveries
        finally:
            await runner.cleanup()
            if coordinator is not None:
                await coordinator.close()

    asyncio.run(run())


async def count_published(redis_url: str, counts: Counter[str], listening: asyncio.Event) -> None:
    """Count the job ids published on the shared channel until cancelled."""
    import redis.asyncio as aioredis

    store = aioredis.Redis.from_url(redis_url)
    pubsub = store.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(f"{NAMESPACE}:webhooks:events")
        listening.set()
        while True:
            message = await pubsub.get_message(timeout=0.5)
            if message is not None:
                counts[message["data"].decode()] += 1
    finally:
        await pubsub.aclose()
        await store.aclose()


async def events_run(
    url: str, key: str, redis_url: str | None, workers: int, jobs: int, port: int
) -> dict[str, Any]:
    """Run the workers once; delays (mean, p95) and the events handled more than once."""
    context = multiprocessing.get_context("spawn")
    queues = (context.Queue(), context.Queue())
    events = (context.Event(), context.Event())
    children = [
        context.Process(
            target=worker, args=(url, key, redis_url, port, jobs, queues, events), daemon=True
        )
        for _ in range(workers)
    ]
    for child in children:
        child.start()
    published: Counter[str] = Counter()
    listening = asyncio.Event()
    counter = None
    if redis_url:
        counter = asyncio.create_task(count_published(redis_url, published, listening))
        await listening.wait()
    ids = [job_id for _ in children for job_id in await asyncio.to_thread(queues[0].get)]
    async with aiohttp.ClientSession() as session:
        admin = Admin(session, url, key)
        await admin.webhook_faults(duplicate=1.0, seed=1)
        events[0].set()
        await admin.finish_later(ids, within=10.0, seed=1)
        results = [await asyncio.to_thread(queues[1].get) for _ in children]
        finished = await admin.terminal_times()
    events[1].set()
    for child in children:
        child.join()
    if counter is not None:
        counter.cancel()
        await asyncio.gather(counter, return_exceptions=True)
    seen_at = {job_id: at for seen, _ in results for job_id, at in seen.items()}
    handled = published if redis_url else Counter(i for _, ids_ in results for i in ids_)
    delays = [seen_at[job_id] - finished[job_id] for job_id in ids]
    return {
        "jobs": len(ids),
        "seen": len(seen_at),
        "mean": statistics.mean(delays),
        "p95": statistics.quantiles(delays, n=20)[18],
        "twice": sum(1 for count in handled.values() if count > 1),
    }


def events_row(label: str, result: dict[str, Any]) -> str:
    return (
        f"| {label} | {result['jobs']} ({result['seen']} seen) | {result['mean']:.3f} s | "
        f"{result['p95']:.3f} s | {result['twice']} |"
    )
