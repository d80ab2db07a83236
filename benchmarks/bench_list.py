"""CPU per job record when listing 10,000 jobs (page_size=100) from the fake server, and peak
memory of a listing of 10,000 versus 100,000 jobs.

Three clients list the same jobs from a fake server running in another process:
- floor: raw aiohttp GETs and ``json.loads`` of each page, following the token, no models;
- aio_classify: ``async for job in client.list_jobs(page_size=100)``;
- llama-cloud: the official SDK's ``async for job in client.classify.list(page_size=100)``.
Rounds are interleaved so machine noise hits all three alike; the median CPU time of each is
reported in microseconds per record and as a ratio to the floor. One more pass per client under
``tracemalloc`` gives the peak Python memory of a whole listing: it should stay about one page,
whatever the number of jobs (the SDK is measured at the smaller size only: under tracemalloc,
100,000 of its records take minutes).

    python benchmarks/bench_list.py [--jobs 10000] [--big 100000] [--rounds 7]
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
from results import Chart, Section, Target, ratio

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


FLOOR, OURS, SDK = CLIENTS


def measure(jobs: int, big: int, rounds: int) -> Section:
    with fake_server("--jobs", str(jobs), api_key=API_KEY) as (url, _):
        for run in CLIENTS.values():  # warm up: imports, first connections, caches
            cpu_seconds(run, url, jobs)
        samples: dict[str, list[float]] = {name: [] for name in CLIENTS}
        for _ in range(rounds):
            for name, run in CLIENTS.items():
                samples[name].append(cpu_seconds(run, url, jobs))
        peaks = {name: peak_kib(run, url) for name, run in CLIENTS.items()}
    with fake_server("--jobs", str(big), api_key=API_KEY) as (url, _):
        big_peaks = {name: peak_kib(CLIENTS[name], url) for name in (FLOOR, OURS)}
    per_record = {name: statistics.median(values) / jobs * 1e6 for name, values in samples.items()}
    base = per_record[FLOOR]
    rows = [
        [
            name,
            f"{micros:.2f}",
            ratio(micros, base),
            f"{peaks[name]:.0f}",
            f"{big_peaks[name]:.0f}" if name in big_peaks else "-",
        ]
        for name, micros in per_record.items()
    ]
    growth_mib = (big_peaks[OURS] - peaks[OURS]) / 1024
    return Section(
        title="Listing: CPU per record and peak memory",
        intro=(
            f"{jobs:,} jobs listed with page_size={PAGE_SIZE} from the fake server in its own "
            f"process; CPU time of the client process, median of {rounds} interleaved rounds. "
            f"Peak Python memory (tracemalloc) of one whole listing of {jobs:,} and of {big:,} "
            "jobs."
        ),
        headers=[
            "client",
            "CPU us/record",
            "x floor",
            f"peak KiB, {jobs:,} jobs",
            f"peak KiB, {big:,} jobs",
        ],
        rows=rows,
        charts=[
            Chart(
                name="list_cpu_per_record",
                title=f"Listing {jobs:,} jobs: CPU per record (log scale)",
                ylabel="microseconds per record",
                labels=list(per_record),
                series={"CPU": list(per_record.values())},
                log=True,
            ),
            Chart(
                name="list_peak_memory",
                title="Peak Python memory of one listing",
                ylabel="KiB",
                labels=[FLOOR, OURS],
                series={
                    f"{jobs:,} jobs": [peaks[FLOOR], peaks[OURS]],
                    f"{big:,} jobs": [big_peaks[FLOOR], big_peaks[OURS]],
                },
            ),
        ],
        targets=[
            Target(
                "aio_classify CPU per record <= 1.15x the floor (goal 1.0x)",
                ratio(per_record[OURS], base),
                per_record[OURS] <= 1.15 * base,
            ),
            Target(
                "official SDK CPU per record >= 18x aio_classify's",
                ratio(per_record[SDK], per_record[OURS]),
                per_record[SDK] >= 18 * per_record[OURS],
            ),
            Target(
                f"aio_classify peak memory: {big:,} jobs at most 5 MiB above {jobs:,}",
                f"{growth_mib:+.2f} MiB",
                growth_mib <= 5,
            ),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(measure(args.jobs, args.big, args.rounds).markdown())


if __name__ == "__main__":
    main()
