"""Wait for 5,000 jobs that finish at random times over ~10 s: ``aio_classify.watch_jobs``
(batched rounds over the pending jobs) versus the official SDK's per-job
``classify.wait_for_completion`` under an ``asyncio.Semaphore``.

    python benchmarks/bench_poll.py [--jobs 5000] [--within 10] [--sdk-concurrency 100]

Reported per contender: requests made, and the delay between a job turning terminal on the
server and the caller seeing it (mean / p50 / p95 / max). Both use the SDK's default intervals
(1 s growing to 5 s); a second aio_classify run polls every 1 s flat, to show what the cheap
rounds buy. Each contender gets its own fresh jobs. The fake server runs in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp
from fakeproc import Admin, fake_server
from llama_cloud import AsyncLlamaCloud

from aio_classify import ClassifyClient

Contender = Callable[[list[str]], Awaitable[dict[str, float]]]


def ours(url: str, key: str, poll_interval: float, max_interval: float) -> Contender:
    async def watch(ids: list[str]) -> dict[str, float]:
        seen: dict[str, float] = {}
        async with ClassifyClient(key, base_url=url) as client:
            jobs = client.watch_jobs(ids, poll_interval=poll_interval, max_interval=max_interval)
            async for job in jobs:
                seen[job.id] = time.time()
        return seen

    return watch


def sdk(url: str, key: str, concurrency: int) -> Contender:
    async def wait_each(ids: list[str]) -> dict[str, float]:
        seen: dict[str, float] = {}
        limiter = asyncio.Semaphore(concurrency)
        async with AsyncLlamaCloud(api_key=key, base_url=url) as client:

            async def wait(job_id: str) -> None:
                async with limiter:
                    await client.classify.wait_for_completion(
                        job_id, polling_interval=1.0, max_interval=5.0
                    )
                seen[job_id] = time.time()

            await asyncio.gather(*(wait(job_id) for job_id in ids))
        return seen

    return wait_each


async def measure(
    admin: Admin, contender: Contender, jobs: int, within: float
) -> tuple[int, list[float], float]:
    ids = await admin.seed(jobs, "PENDING")
    await admin.reset_stats()
    started = time.perf_counter()
    await admin.finish_later(ids, within=within, seed=1)
    seen = await contender(ids)
    elapsed = time.perf_counter() - started
    requests = (await admin.stats())["requests"]
    finished = await admin.terminal_times()
    delays = [seen[job_id] - finished[job_id] for job_id in ids]
    return requests, delays, elapsed


async def main(args: argparse.Namespace) -> None:
    with fake_server(latency=args.latency) as (url, key):
        async with aiohttp.ClientSession() as session:
            admin = Admin(session, url, key)
            contenders = [
                ("aio_classify.watch_jobs 1->5 s", ours(url, key, 1.0, 5.0)),
                (
                    f"SDK wait_for_completion (sem {args.sdk_concurrency})",
                    sdk(url, key, args.sdk_concurrency),
                ),
                ("aio_classify.watch_jobs 1 s flat", ours(url, key, 1.0, 1.0)),
            ]
            rows = []
            for name, contender in contenders:
                rows.append((name, *await measure(admin, contender, args.jobs, args.within)))
    print(
        f"{args.jobs} jobs finishing at random within {args.within:.0f} s; "
        f"{args.latency * 1000:.0f} ms added latency per request"
    )
    print(
        f"{'contender':<38}{'requests':>9}{'wall s':>8}"
        f"{'mean':>8}{'p50':>8}{'p95':>8}{'max':>8}   (delay, s)"
    )
    for name, requests, delays, elapsed in rows:
        cuts = statistics.quantiles(delays, n=20)
        print(
            f"{name:<38}{requests:>9}{elapsed:>8.1f}{statistics.mean(delays):>8.2f}"
            f"{statistics.median(delays):>8.2f}{cuts[18]:>8.2f}{max(delays):>8.2f}"
        )
    ours_row, sdk_row = rows[0], rows[1]
    print(
        f"ratios (SDK / aio_classify 1->5 s): requests {sdk_row[1] / ours_row[1]:.0f}x, "
        f"mean delay {statistics.mean(sdk_row[2]) / statistics.mean(ours_row[2]):.1f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--within", type=float, default=10.0)
    parser.add_argument("--sdk-concurrency", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.005)
    asyncio.run(main(parser.parse_args()))
