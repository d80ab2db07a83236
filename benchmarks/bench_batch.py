"""Look up 10,000 known jobs: ``aio_classify.get_jobs`` (batched list calls) versus a raw-aiohttp
floor making the very same requests, and the official SDK doing one ``classify.get`` per id, all
under the same concurrency.

    python benchmarks/bench_batch.py [--jobs 10000] [--concurrency 8] [--latency 0.005]

The fake server runs in its own process with ``--latency`` seconds added to every request. CPU is
the client process's, median of interleaved rounds for the floor and aio_classify (the SDK, at
10,000 requests, runs once).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from fakeproc import Admin, fake_server
from llama_cloud import AsyncLlamaCloud
from results import Chart, Section, Target, ratio

from aio_classify import ClassifyClient

Contender = Callable[[str, str, list[str], int], Awaitable[int]]


async def floor(url: str, key: str, ids: list[str], concurrency: int) -> int:
    """The same filtered list calls as ``get_jobs`` (100 ids each), parsed with ``json.loads``."""
    limiter = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:

        async def batch(chunk: list[str]) -> dict[str, Any]:
            params = [("page_size", "100"), *(("job_ids", job_id) for job_id in chunk)]
            async with limiter, session.get(f"{url}/api/v2/classify", params=params) as response:
                page = json.loads(await response.read())
            return {job["id"]: job for job in page["items"]}

        found: dict[str, Any] = {}
        for jobs in await asyncio.gather(
            *(batch(ids[i : i + 100]) for i in range(0, len(ids), 100))
        ):
            found.update(jobs)
    return len(found)


async def ours(url: str, key: str, ids: list[str], concurrency: int) -> int:
    async with ClassifyClient(key, base_url=url) as client:
        return len(await client.get_jobs(ids, concurrency=concurrency, batch_size=100))


async def sdk(url: str, key: str, ids: list[str], concurrency: int) -> int:
    limiter = asyncio.Semaphore(concurrency)
    async with AsyncLlamaCloud(api_key=key, base_url=url) as client:

        async def get(job_id: str) -> Any:
            async with limiter:
                return await client.classify.get(job_id)

        return len(await asyncio.gather(*(get(job_id) for job_id in ids)))


CONTENDERS: dict[str, Contender] = {
    "floor (aiohttp + json.loads)": floor,
    "aio_classify.get_jobs": ours,
    "SDK classify.get x N": sdk,
}
FLOOR, OURS, SDK = CONTENDERS


async def run_once(
    admin: Admin, contender: Contender, url: str, key: str, ids: list[str], concurrency: int
) -> tuple[float, float, dict[str, Any]]:
    """(CPU seconds, wall seconds, server stats) of one lookup of all ``ids``."""
    await admin.reset_stats()
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    found = await contender(url, key, ids, concurrency)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if found != len(ids):
        raise RuntimeError(f"{contender.__name__} found {found} of {len(ids)} jobs")
    return cpu, wall, await admin.stats()


async def collect(jobs: int, concurrency: int, latency: float, rounds: int) -> Section:
    with fake_server(latency=latency) as (url, key):
        async with aiohttp.ClientSession() as session:
            admin = Admin(session, url, key)
            ids = await admin.seed(jobs, "COMPLETED")
            runs: dict[str, list[tuple[float, float, dict[str, Any]]]] = {n: [] for n in CONTENDERS}
            for name in (FLOOR, OURS):  # warm up
                await run_once(admin, CONTENDERS[name], url, key, ids, concurrency)
            for _ in range(rounds):
                for name in (FLOOR, OURS):
                    runs[name].append(
                        await run_once(admin, CONTENDERS[name], url, key, ids, concurrency)
                    )
            runs[SDK].append(await run_once(admin, CONTENDERS[SDK], url, key, ids, concurrency))
    cpu_per_id = {n: statistics.median(r[0] for r in rs) / jobs * 1e6 for n, rs in runs.items()}
    wall = {n: statistics.median(r[1] for r in rs) for n, rs in runs.items()}
    stats = {n: rs[-1][2] for n, rs in runs.items()}
    base = cpu_per_id[FLOOR]
    rows = [
        [
            name,
            str(stats[name]["requests"]),
            str(stats[name]["max_in_flight"]),
            f"{wall[name]:.2f}",
            f"{cpu_per_id[name]:.1f}",
            ratio(cpu_per_id[name], base),
        ]
        for name in CONTENDERS
    ]
    return Section(
        title="Batched lookups: get_jobs",
        intro=(
            f"{jobs:,} known ids looked up, concurrency {concurrency}, {latency * 1000:.0f} ms "
            f"added per request. The floor makes the same requests as get_jobs (100 ids a "
            f"request) with raw aiohttp and json.loads. Median of {rounds} interleaved rounds "
            "(the SDK, one request per id, runs once)."
        ),
        headers=["contender", "requests", "max in flight", "wall s", "CPU us/id", "x floor"],
        rows=rows,
        charts=[
            Chart(
                name="get_jobs_cpu_per_id",
                title=f"Looking up {jobs:,} ids: CPU per id (log scale)",
                ylabel="microseconds per id",
                labels=list(cpu_per_id),
                series={"CPU": list(cpu_per_id.values())},
                log=True,
            )
        ],
        targets=[
            Target(
                f"get_jobs of {jobs:,} ids: at most {jobs // 100} requests",
                str(stats[OURS]["requests"]),
                stats[OURS]["requests"] <= jobs // 100,
            ),
            Target(
                "get_jobs CPU per id <= 1.4x the raw floor",
                ratio(cpu_per_id[OURS], base),
                cpu_per_id[OURS] <= 1.4 * base,
            ),
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.005)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(asyncio.run(collect(args.jobs, args.concurrency, args.latency, args.rounds)).markdown())
