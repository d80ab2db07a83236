"""Export one time range of 20,000 jobs at 20 ms a request: ``list_jobs`` one page after another
versus ``scan_jobs`` cut into 1, 2, 4, 8 and 16 windows (as many requests in flight), and the
official SDK's ``classify.list`` over the same range.

    python benchmarks/bench_scan.py [--jobs 20000] [--latency 0.02] [--rounds 5]

Every contender must yield every job of the range exactly once (checked). Wall time is the
median of ``--rounds`` interleaved rounds (the SDK runs once); the fake server runs in its own
process. The parallel runs are CPU-dense (client and fake process both busy while requests wait),
so on a loaded machine their times spread more than the sequential ones: hence the median.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from fakeproc import fake_server
from results import Chart, Section, Target

from aio_classify import ClassifyClient

PAGE_SIZE = 100
PARTITIONS = (1, 2, 4, 8, 16)
Contender = Callable[[str, str, datetime, datetime], Awaitable[list[str]]]


async def sequential(url: str, key: str, start: datetime, end: datetime) -> list[str]:
    async with ClassifyClient(key, base_url=url) as client:
        pager = client.list_jobs(
            created_at_on_or_after=start, created_at_on_or_before=end, page_size=PAGE_SIZE
        )
        return [job.id async for job in pager]


def scanning(partitions: int) -> Contender:
    async def scan(url: str, key: str, start: datetime, end: datetime) -> list[str]:
        async with ClassifyClient(key, base_url=url) as client:
            jobs = client.scan_jobs(
                start, end, partitions=partitions, concurrency=partitions, page_size=PAGE_SIZE
            )
            return [job.id async for job in jobs]

    return scan


async def official(url: str, key: str, start: datetime, end: datetime) -> list[str]:
    from llama_cloud import AsyncLlamaCloud

    async with AsyncLlamaCloud(api_key=key, base_url=url) as client:
        pages = client.classify.list(
            page_size=PAGE_SIZE,
            created_at_on_or_after=start.isoformat(),
            created_at_on_or_before=end.isoformat(),
        )
        return [job.id async for job in pages]


async def timed(
    contender: Contender, url: str, key: str, start: datetime, end: datetime
) -> tuple[float, frozenset[str]]:
    """Wall seconds of one export, and the ids it yielded (checked: each once)."""
    started = time.perf_counter()
    ids = await contender(url, key, start, end)
    elapsed = time.perf_counter() - started
    if max(Counter(ids).values(), default=0) != 1:
        raise RuntimeError(f"{contender.__name__}: a job came twice, or none came")
    return elapsed, frozenset(ids)


async def collect(jobs: int, latency: float, rounds: int) -> Section:
    contenders: dict[str, Contender] = {"list_jobs, page after page": sequential}
    contenders |= {f"scan_jobs, {n} partitions": scanning(n) for n in PARTITIONS}
    contenders["SDK classify.list"] = official
    with fake_server("--jobs", str(jobs), latency=latency) as (url, key):
        # Seeded jobs were created within the 30 days before the server started.
        end = datetime.now(UTC) + timedelta(seconds=10)
        start = end - timedelta(days=30, seconds=20)
        times: dict[str, list[float]] = {name: [] for name in contenders}
        results: set[frozenset[str]] = set()
        for round_ in range(rounds):
            for name, contender in contenders.items():
                if contender is official and round_ > 0:
                    continue  # the SDK, page after page at twice our cost, runs once
                elapsed, ids = await timed(contender, url, key, start, end)
                times[name].append(elapsed)
                results.add(ids)
    if len(results) != 1 or len(results.pop()) != jobs:
        raise RuntimeError("the contenders did not all yield the same, complete set of jobs")
    wall = {name: statistics.median(values) for name, values in times.items()}
    base = wall["list_jobs, page after page"]
    rows = [[name, f"{seconds:.2f}", f"{base / seconds:.1f}x"] for name, seconds in wall.items()]
    eight = base / wall["scan_jobs, 8 partitions"]
    return Section(
        title="Exporting a time range: scan_jobs",
        intro=(
            f"{jobs:,} jobs in one range of creation times, page_size={PAGE_SIZE}, "
            f"{latency * 1000:.0f} ms added per request; scan_jobs with concurrency equal to its "
            f"partitions. Every contender yielded the same {jobs:,} jobs, each once. Wall time, "
            f"median of {rounds} interleaved rounds (the SDK runs once)."
        ),
        headers=["contender", "wall s", "speed-up vs list_jobs"],
        rows=rows,
        charts=[
            Chart(
                name="scan_speedup",
                title=f"Exporting {jobs:,} jobs: speed-up over list_jobs by partitions",
                ylabel="x faster than list_jobs page after page",
                labels=[str(n) for n in PARTITIONS],
                series={
                    "scan_jobs": [base / wall[f"scan_jobs, {n} partitions"] for n in PARTITIONS]
                },
            )
        ],
        targets=[
            Target(
                "scan_jobs, 8 partitions: >= 5x faster than list_jobs (goal 7x), each job once",
                f"{eight:.1f}x",
                eight >= 5,
            )
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(asyncio.run(collect(args.jobs, args.latency, args.rounds)).markdown())
