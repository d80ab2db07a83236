"""Wait for 5,000 jobs that finish at random within 10 s: the official SDK's per-job
``wait_for_completion`` (as in bench_poll), ``watch_jobs`` polling (1 s growing to 5 s), and
``watch_jobs(events=receiver)``, whose lookups are prompted by the fake's webhook deliveries to a
receiver served in this process; then events again with 10% of the deliveries dropped and 10%
duplicated (the lost ones are found by the fallback round).

    python benchmarks/bench_webhooks.py [--jobs 5000] [--within 10] [--fallback 30]
        [--fault-fallback 5] [--no-sdk]

Reported per run: requests the wait made (the first check of every id counts for all), the delay
from a job turning terminal on the server to the caller seeing it (mean / p50 / p95 / max; for
the fault run also the mean over jobs whose event was delivered), and whether every job was seen
exactly once. The floor is what no event-driven wait can beat: the first check plus one request
per 100 events. The fake server runs in its own process; each run gets fresh jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from bench_poll import sdk
from fakeproc import Admin, fake_server

from aio_classify import (
    ClassifyClient,
    ClassifyConfiguration,
    ClassifyJob,
    ClassifyRule,
    WebhookConfiguration,
)
from aio_classify.webhooks import WebhookReceiver

SECRET = "whsec_bench"
TERMINAL = ["classify.success", "classify.error", "classify.cancelled"]
CONFIGURATION = ClassifyConfiguration(
    rules=[ClassifyRule(type="invoice", description="An invoice with line items and a total")]
)


async def create_jobs(client: ClassifyClient, count: int, hook_url: str | None) -> list[str]:
    hooks = None
    if hook_url is not None:
        hooks = [
            WebhookConfiguration(
                webhook_url=hook_url, webhook_events=TERMINAL, webhook_signing_secret=SECRET
            )
        ]
    limiter = asyncio.Semaphore(50)

    async def create() -> str:
        async with limiter:
            job = await client.create_job("dfl-bench", CONFIGURATION, webhook_configurations=hooks)
            return job.id

    return list(await asyncio.gather(*(create() for _ in range(count))))


#: Waits for the ids; returns how many times each was seen terminal and when first (epoch s).
Contender = Callable[[list[str]], Awaitable[tuple[Counter[str], dict[str, float]]]]


async def tally(jobs: AsyncIterator[ClassifyJob]) -> tuple[Counter[str], dict[str, float]]:
    seen: Counter[str] = Counter()
    first: dict[str, float] = {}
    async for job in jobs:
        seen[job.id] += 1
        first.setdefault(job.id, time.time())
    return seen, first


def polling(client: ClassifyClient) -> Contender:
    return lambda ids: tally(client.watch_jobs(ids, poll_interval=1.0, max_interval=5.0))


def events(client: ClassifyClient, receiver: WebhookReceiver, fallback: float) -> Contender:
    return lambda ids: tally(client.watch_jobs(ids, events=receiver, fallback_interval=fallback))


def official_sdk(url: str, key: str) -> Contender:
    wait_each = sdk(url, key, concurrency=100)  # as bench_poll measures it

    async def wait(ids: list[str]) -> tuple[Counter[str], dict[str, float]]:
        first = await wait_each(ids)
        return Counter(first.keys()), first

    return wait


async def run(
    admin: Admin,
    client: ClassifyClient,
    args: argparse.Namespace,
    contender: Contender,
    hook_url: str | None = None,
) -> dict[str, Any]:
    ids = await create_jobs(client, args.jobs, hook_url)
    await admin.reset_stats()
    started = time.perf_counter()
    await admin.finish_later(ids, within=args.within, seed=1)
    seen, seen_at = await contender(ids)
    elapsed = time.perf_counter() - started
    requests = (await admin.stats())["requests"]
    finished = await admin.terminal_times()
    delays = {job_id: seen_at[job_id] - finished[job_id] for job_id in ids}
    return {
        "requests": requests,
        "elapsed": elapsed,
        "delays": delays,
        "exactly_once": set(seen) == set(ids) and set(seen.values()) == {1},
    }


async def main(args: argparse.Namespace) -> None:
    receiver = WebhookReceiver(secret=SECRET)
    app = web.Application()
    app.router.add_post("/hooks", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/hooks"
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        with fake_server(latency=args.latency) as (url, key):
            async with (
                aiohttp.ClientSession() as session,
                ClassifyClient(key, base_url=url) as client,
            ):
                admin = Admin(session, url, key)
                rows.append(("official SDK wait_for_completion (sem 100)", {}))
                rows.append(("watch_jobs polling 1->5 s", {}))
                rows.append((f"watch_jobs(events=receiver), fallback {args.fallback:.0f} s", {}))
                if not args.no_sdk:
                    rows[0] = (rows[0][0], await run(admin, client, args, official_sdk(url, key)))
                rows[1] = (rows[1][0], await run(admin, client, args, polling(client)))
                with_events = events(client, receiver, args.fallback)
                rows[2] = (rows[2][0], await run(admin, client, args, with_events, hook_url))
                await admin.webhook_faults(drop=0.1, duplicate=0.1, seed=1)
                before = set((await admin.webhook_deliveries())["dropped_job_ids"])
                with_faults = events(client, receiver, args.fault_fallback)
                fault_row = await run(admin, client, args, with_faults, hook_url)
                after = set((await admin.webhook_deliveries())["dropped_job_ids"])
                fault_row["lost"] = after - before
                rows.append(
                    (
                        f"  same, 10% dropped + 10% dup, fallback {args.fault_fallback:.0f} s",
                        fault_row,
                    )
                )
    finally:
        await runner.cleanup()
    report(args, [(name, row) for name, row in rows if row])


def report(args: argparse.Namespace, rows: list[tuple[str, dict[str, Any]]]) -> None:
    floor = 2 * math.ceil(args.jobs / 100)
    print(
        f"{args.jobs} jobs finishing at random within {args.within:.0f} s; "
        f"{args.latency * 1000:.0f} ms added latency per request; about {floor} requests is "
        "the floor of an event-driven wait (first check + one full lookup per 100 events)"
    )
    print(
        f"{'run':<52}{'requests':>9}{'wall s':>8}{'mean':>7}{'p50':>7}{'p95':>7}{'max':>7}"
        "  seen once  (delay, s)"
    )
    for name, row in rows:
        delays = list(row["delays"].values())
        cuts = statistics.quantiles(delays, n=20)
        print(
            f"{name:<52}{row['requests']:>9}{row['elapsed']:>8.1f}{statistics.mean(delays):>7.2f}"
            f"{statistics.median(delays):>7.2f}{cuts[18]:>7.2f}{max(delays):>7.2f}"
            f"  {'yes' if row['exactly_once'] else 'NO'}"
        )
    polling_row, events_row, faulty = (row for _, row in rows[-3:])
    polling_mean = statistics.mean(polling_row["delays"].values())
    events_mean = statistics.mean(events_row["delays"].values())
    print(
        f"events / polling: requests {events_row['requests'] / polling_row['requests']:.2f}x; "
        f"mean delay {events_mean:.3f} s vs {polling_mean:.3f} s "
        f"({polling_mean / events_mean:.0f}x sooner)"
    )
    if len(rows) == 4:
        sdk_row = rows[0][1]
        sdk_mean = statistics.mean(sdk_row["delays"].values())
        print(
            f"official SDK / events: requests {sdk_row['requests'] / events_row['requests']:.0f}x, "
            f"mean delay {sdk_mean / events_mean:.0f}x"
        )
    lost = faulty["lost"]
    delivered = [d for job_id, d in faulty["delays"].items() if job_id not in lost]
    lost_delays = [faulty["delays"][job_id] for job_id in lost]
    print(
        f"fault run: requests {faulty['requests'] / polling_row['requests']:.2f}x polling; "
        f"mean delay {statistics.mean(delivered):.3f} s over the jobs whose event came; "
        f"{len(lost)} events lost, those jobs seen {statistics.mean(lost_delays):.2f} s late "
        f"on average, {max(lost_delays):.2f} s at most (fallback {args.fault_fallback:.0f} s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--within", type=float, default=10.0)
    parser.add_argument("--fallback", type=float, default=30.0)
    parser.add_argument("--fault-fallback", type=float, default=5.0)
    parser.add_argument("--latency", type=float, default=0.005)
    parser.add_argument("--no-sdk", action="store_true", help="skip the official SDK's run")
    asyncio.run(main(parser.parse_args()))
