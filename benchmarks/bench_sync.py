"""What the sync facade (``aio_classify.sync``) costs over the async client it drives.

- Listing: CPU per job record when listing 10,000 jobs (page_size=100), through
  ``for job in client.list_jobs(...)`` of the sync client against ``async for`` of the async one;
  the CPU of the whole process (the facade's loop thread included), median of interleaved rounds.
- Round trip: the wall time of one ``get_job`` on loopback, sync against async, each client
  warmed up first; the median of many calls, taken in interleaved blocks.

The fake server runs in another process, so its CPU is not counted.

    python benchmarks/bench_sync.py [--jobs 10000] [--rounds 7] [--calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Callable

from fakeproc import fake_server
from results import Section, Target, ratio

from aio_classify import ClassifyClient
from aio_classify.sync import ClassifyClient as SyncClient

API_KEY = "bench-key"
PAGE_SIZE = 100
BLOCKS = 10


def list_async(url: str) -> int:
    async def listing() -> int:
        count = 0
        async with ClassifyClient(API_KEY, base_url=url) as client:
            async for _job in client.list_jobs(page_size=PAGE_SIZE):
                count += 1
        return count

    return asyncio.run(listing())


def list_sync(url: str) -> int:
    count = 0
    with SyncClient(API_KEY, base_url=url) as client:
        for _job in client.list_jobs(page_size=PAGE_SIZE):
            count += 1
    return count


LISTINGS: dict[str, Callable[[str], int]] = {
    "aio_classify (async)": list_async,
    "aio_classify.sync": list_sync,
}


def cpu_seconds(run: Callable[[str], int], url: str, jobs: int) -> float:
    gc.collect()
    started = time.process_time()
    count = run(url)
    elapsed = time.process_time() - started
    if count != jobs:
        raise RuntimeError(f"{run.__name__} listed {count} jobs, expected {jobs}")
    return elapsed


def round_trips(url: str, calls: int) -> tuple[list[float], list[float]]:
    """Seconds per ``get_job``, async and sync, from interleaved blocks of calls."""
    per_block = max(1, calls // BLOCKS)
    async_times: list[float] = []
    sync_times: list[float] = []

    async def async_block(client: ClassifyClient, job_id: str) -> None:
        for _ in range(per_block):
            started = time.perf_counter()
            await client.get_job(job_id)
            async_times.append(time.perf_counter() - started)

    async def main() -> None:
        async with ClassifyClient(API_KEY, base_url=url) as client:
            with SyncClient(API_KEY, base_url=url) as sync:
                job_id = (await client.list_jobs(limit=1).first_page()).items[0].id
                await client.get_job(job_id)  # warm: session, connection
                sync.get_job(job_id)  # warm: thread, loop, session, connection
                for _ in range(BLOCKS):
                    await async_block(client, job_id)
                    for _ in range(per_block):
                        started = time.perf_counter()
                        sync.get_job(job_id)  # blocks this loop, as a sync caller would
                        sync_times.append(time.perf_counter() - started)

    asyncio.run(main())
    return async_times, sync_times


ASYNC, SYNC = LISTINGS


def measure(jobs: int, rounds: int, calls: int) -> Section:
    with fake_server("--jobs", str(jobs), api_key=API_KEY) as (url, _):
        for run in LISTINGS.values():  # warm up: imports, first connections, caches
            cpu_seconds(run, url, jobs)
        samples: dict[str, list[float]] = {name: [] for name in LISTINGS}
        for _ in range(rounds):
            for name, run in LISTINGS.items():
                samples[name].append(cpu_seconds(run, url, jobs))
        async_times, sync_times = round_trips(url, calls)
    per_record = {name: statistics.median(values) / jobs * 1e6 for name, values in samples.items()}
    trips = {ASYNC: statistics.median(async_times), SYNC: statistics.median(sync_times)}
    added_ms = (trips[SYNC] - trips[ASYNC]) * 1e3
    rows = [
        [name, f"{per_record[name]:.2f}", ratio(per_record[name], per_record[ASYNC]),
         f"{trips[name] * 1e3:.3f}"]
        for name in LISTINGS
    ]  # fmt: skip
    return Section(
        title="From sync code: what the facade costs",
        intro=(
            f"{jobs:,} jobs listed with page_size={PAGE_SIZE} from the fake server in its own "
            f"process: CPU time of the client process (the facade's loop thread included), "
            f"median of {rounds} interleaved rounds. One `get_job` round trip on loopback: "
            f"median wall time of {len(async_times):,} calls each, in {BLOCKS} interleaved blocks."
        ),
        headers=["client", "CPU us/record", "x async", "get_job median ms"],
        rows=rows,
        targets=[
            Target(
                "listing through the facade <= 1.15x the async client's CPU per record",
                ratio(per_record[SYNC], per_record[ASYNC]),
                per_record[SYNC] <= 1.15 * per_record[ASYNC],
            ),
            Target(
                "a sync get_job adds <= 0.2 ms over the async one (median)",
                f"{added_ms:+.3f} ms",
                added_ms <= 0.2,
            ),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    print(measure(args.jobs, args.rounds, args.calls).markdown())


if __name__ == "__main__":
    main()
