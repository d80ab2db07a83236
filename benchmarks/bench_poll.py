"""Wait for 5,000 jobs that finish at random times over ~10 s: ``aio_classify.watch_jobs``
(batched rounds over the pending jobs) versus a raw-aiohttp floor doing the same rounds, and the
official SDK's per-job ``classify.wait_for_completion`` under an ``asyncio.Semaphore``.

    python benchmarks/bench_poll.py [--jobs 5000] [--within 10] [--sdk-concurrency 100]

Reported per contender: requests made, CPU of the client process, and the delay between a job
turning terminal on the server and the caller seeing it (mean / p95). All use the same intervals
(1 s growing to 5 s). Each run gets its own fresh jobs, finishing on the same schedule. The fake
server runs in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import aiohttp
from fakeproc import Admin, Waiter, fake_server, measure_wait
from llama_cloud import AsyncLlamaCloud
from results import Chart, Section, Target, ratio

from aio_classify import ClassifyClient
from aio_classify._jobs.polling import GROWTH

POLL_INTERVAL, MAX_INTERVAL = 1.0, 5.0
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}


def floor(url: str, key: str, concurrency: int) -> Waiter:
    """Rounds over the pending ids as watch_jobs makes them (100 ids a request, ``concurrency``
    at once, the same intervals), parsed with ``json.loads``; no models. Like watch_jobs (whose
    ``PollingTimeoutError`` carries them), it keeps the finished records."""

    async def watch(ids: list[str]) -> dict[str, float]:
        seen: dict[str, float] = {}
        finished: dict[str, Any] = {}  # kept, as watch_jobs keeps them (PollingTimeoutError)
        pending = list(ids)
        interval = POLL_INTERVAL
        limiter = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:

            async def batch(chunk: list[str]) -> None:
                params = [("page_size", "100"), *(("job_ids", job_id) for job_id in chunk)]
                async with limiter, session.get(f"{url}/api/v2/classify", params=params) as r:
                    page = json.loads(await r.read())
                now = time.time()
                for job in page["items"]:
                    if job["status"] in TERMINAL:
                        seen[job["id"]] = now
                        finished[job["id"]] = job

            while True:
                await asyncio.gather(
                    *(batch(pending[i : i + 100]) for i in range(0, len(pending), 100))
                )
                pending = [job_id for job_id in pending if job_id not in seen]
                if not pending:
                    return seen
                await asyncio.sleep(interval)
                interval = min(interval * GROWTH, MAX_INTERVAL)

    return watch


def ours(url: str, key: str, concurrency: int) -> Waiter:
    async def watch(ids: list[str]) -> dict[str, float]:
        seen: dict[str, float] = {}
        async with ClassifyClient(key, base_url=url) as client:
            jobs = client.watch_jobs(
                ids,
                poll_interval=POLL_INTERVAL,
                max_interval=MAX_INTERVAL,
                concurrency=concurrency,
            )
            async for job in jobs:
                seen[job.id] = time.time()
        return seen

    return watch


def sdk(url: str, key: str, concurrency: int) -> Waiter:
    async def wait_each(ids: list[str]) -> dict[str, float]:
        seen: dict[str, float] = {}
        limiter = asyncio.Semaphore(concurrency)
        async with AsyncLlamaCloud(api_key=key, base_url=url) as client:

            async def wait(job_id: str) -> None:
                async with limiter:
                    await client.classify.wait_for_completion(
                        job_id, polling_interval=POLL_INTERVAL, max_interval=MAX_INTERVAL
                    )
                seen[job_id] = time.time()

            await asyncio.gather(*(wait(job_id) for job_id in ids))
        return seen

    return wait_each


async def collect(
    jobs: int, within: float, concurrency: int, sdk_concurrency: int, latency: float, rounds: int
) -> Section:
    names = ["floor (aiohttp + json.loads)", "aio_classify.watch_jobs", "SDK wait_for_completion"]
    with fake_server(latency=latency) as (url, key):
        async with aiohttp.ClientSession() as session:
            admin = Admin(session, url, key)
            makers = {
                names[0]: floor(url, key, concurrency),
                names[1]: ours(url, key, concurrency),
            }
            runs: dict[str, list[tuple[int, float, list[float]]]] = {name: [] for name in names}
            for _ in range(rounds):
                for name, contender in makers.items():
                    runs[name].append(await measure_wait(admin, contender, jobs, within))
            runs[names[2]].append(
                await measure_wait(admin, sdk(url, key, sdk_concurrency), jobs, within)
            )
    cpu = {name: statistics.median(run[1] for run in rs) for name, rs in runs.items()}
    base = cpu[names[0]]
    rows = []
    for name, rs in runs.items():
        requests, _, delays = rs[-1]
        rows.append(
            [
                name,
                str(requests),
                f"{cpu[name] * 1000:.0f}",
                f"{cpu[name] / jobs * 1e6:.0f}",
                ratio(cpu[name], base),
                f"{statistics.mean(delays):.2f}",
                f"{statistics.quantiles(delays, n=20)[18]:.2f}",
            ]
        )
    return Section(
        title="Polling many jobs: watch_jobs",
        intro=(
            f"{jobs:,} jobs finishing at random within {within:.0f} s, {latency * 1000:.0f} ms "
            f"added per request, intervals {POLL_INTERVAL:.0f} s growing to {MAX_INTERVAL:.0f} s. "
            f"The floor makes the same rounds as watch_jobs (the pending ids, 100 a request, "
            f"{concurrency} at once) with raw aiohttp and json.loads. CPU: median of {rounds} "
            f"interleaved runs (the SDK, {sdk_concurrency} jobs waited on at once, runs once)."
        ),
        headers=[
            "contender",
            "requests",
            "CPU ms",
            "CPU us/job",
            "x floor",
            "mean delay s",
            "p95 delay s",
        ],
        rows=rows,
        charts=[
            Chart(
                name="watch_jobs_cpu",
                title=f"Watching {jobs:,} jobs to the end: CPU per job (log scale)",
                ylabel="microseconds per job",
                labels=names,
                series={"CPU": [cpu[name] / jobs * 1e6 for name in names]},
                log=True,
            )
        ],
        targets=[
            Target(
                "watch_jobs CPU <= 1.4x the raw floor doing the same rounds",
                ratio(cpu[names[1]], base),
                cpu[names[1]] <= 1.4 * base,
            )
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--within", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--sdk-concurrency", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.005)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    section = asyncio.run(
        collect(
            args.jobs,
            args.within,
            args.concurrency,
            args.sdk_concurrency,
            args.latency,
            args.rounds,
        )
    )
    print(section.markdown())
