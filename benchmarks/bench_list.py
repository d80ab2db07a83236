"""CPU per job record when listing 10,000 jobs (page_size=100) from the fake server.

Three clients list the same jobs from a fake server running in another process:
- floor: raw aiohttp GETs and ``json.loads`` of each page, following the token, no models;
- aio_classify: ``async for job in client.list_jobs(page_size=100)``;
- llama-cloud: the official SDK's ``async for job in client.classify.list(page_size=100)``.
Rounds are interleaved so machine noise hits all three alike; the median CPU time of each is
reported in microseconds per record and as a ratio to the floor. One more pass per client under
``tracemalloc`` gives the peak Python memory of a whole listing: it should stay about one page,
whatever the number of jobs.

    python benchmarks/bench_list.py [--jobs 10000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable

import aiohttp
from fakeproc import fake_server

from aio_classify import ClassifyClient

API_KEY = "bench-key"
PAGE_SIZE = 100


async def floor(url: str) -> int:
    count = 0
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        params = {"page_size": str(PAGE_SIZE)}
        while True:
            async with session.get(f"{url}/api/v2/classify", params=params) as response:
                page = json.loads(await response.read())
            count += len(page["items"])
            token = page.get("next_page_token")
            if not token:
                return count
            params["page_token"] = token


async def ours(url: str) -> int:
    count = 0
    async with ClassifyClient(API_KEY, base_url=url) as client:
        async for _job in client.list_jobs(page_size=PAGE_SIZE):
            count += 1
    return count


async def official(url: str) -> int:
    from llama_cloud import AsyncLlamaCloud

    count = 0
    async with AsyncLlamaCloud(api_key=API_KEY, base_url=url) as client:
        async for _job in client.classify.list(page_size=PAGE_SIZE):
            count += 1
    return count


CLIENTS: dict[str, Callable[[str], Awaitable[int]]] = {
    "floor (aiohttp + json.loads)": floor,
    "aio_classify": ours,
    "llama-cloud (official SDK)": official,
}


def cpu_seconds(run: Callable[[str], Awaitable[int]], url: str, jobs: int) -> float:
    gc.collect()
    started = time.process_time()
    count = asyncio.run(run(url))
    elapsed = time.process_time() - started
    if count != jobs:
        raise RuntimeError(f"{run.__name__} listed {count} jobs, expected {jobs}")
    return elapsed


def peak_kib(run: Callable[[str], Awaitable[int]], url: str) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        asyncio.run(run(url))
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with fake_server("--jobs", str(args.jobs), api_key=API_KEY) as (url, _):
        for run in CLIENTS.values():  # warm up: imports, first connections, caches
            cpu_seconds(run, url, args.jobs)
        samples: dict[str, list[float]] = {name: [] for name in CLIENTS}
        for _ in range(args.rounds):
            for name, run in CLIENTS.items():
                samples[name].append(cpu_seconds(run, url, args.jobs))
        peaks = {name: peak_kib(run, url) for name, run in CLIENTS.items()}
    per_record = {
        name: statistics.median(values) / args.jobs * 1e6 for name, values in samples.items()
    }
    base = per_record["floor (aiohttp + json.loads)"]
    print(f"listing {args.jobs} jobs, page_size={PAGE_SIZE}, median of {args.rounds} rounds")
    print(f"{'client':<30} {'CPU us/record':>14} {'x floor':>8} {'peak KiB':>9}")
    for name, micros in per_record.items():
        print(f"{name:<30} {micros:>14.2f} {micros / base:>8.2f} {peaks[name]:>9.0f}")


if __name__ == "__main__":
    main()
