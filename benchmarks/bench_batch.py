"""Look up 10,000 known jobs: ``aio_classify.get_jobs`` (batched list calls) versus the official
SDK doing one ``classify.get`` per id, both under the same concurrency.

    python benchmarks/bench_batch.py [--jobs 10000] [--concurrency 8] [--latency 0.005]

The fake server runs in its own process with ``--latency`` seconds added to every request.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import aiohttp
from fakeproc import Admin, fake_server
from llama_cloud import AsyncLlamaCloud

from aio_classify import ClassifyClient


async def ours(url: str, key: str, ids: list[str], concurrency: int) -> float:
    async with ClassifyClient(key, base_url=url) as client:
        started = time.perf_counter()
        jobs = await client.get_jobs(ids, concurrency=concurrency, batch_size=100)
        elapsed = time.perf_counter() - started
    assert len(jobs) == len(ids)
    return elapsed


async def sdk(url: str, key: str, ids: list[str], concurrency: int) -> float:
    limiter = asyncio.Semaphore(concurrency)
    async with AsyncLlamaCloud(api_key=key, base_url=url) as client:

        async def get(job_id: str) -> Any:
            async with limiter:
                return await client.classify.get(job_id)

        started = time.perf_counter()
        jobs = await asyncio.gather(*(get(job_id) for job_id in ids))
        elapsed = time.perf_counter() - started
    assert len(jobs) == len(ids)
    return elapsed


async def main(args: argparse.Namespace) -> None:
    with fake_server(latency=args.latency) as (url, key):
        async with aiohttp.ClientSession() as session:
            admin = Admin(session, url, key)
            ids = await admin.seed(args.jobs, "COMPLETED")
            rows = []
            for name, contender in (("aio_classify.get_jobs", ours), ("SDK classify.get x N", sdk)):
                await admin.reset_stats()
                elapsed = await contender(url, key, ids, args.concurrency)
                stats = await admin.stats()
                rows.append((name, stats["requests"], stats["max_in_flight"], elapsed))
    print(
        f"{args.jobs} known ids, concurrency {args.concurrency}, "
        f"{args.latency * 1000:.0f} ms added latency per request"
    )
    print(f"{'contender':<24}{'requests':>10}{'max in flight':>15}{'wall s':>10}")
    for name, requests, in_flight, elapsed in rows:
        print(f"{name:<24}{requests:>10}{in_flight:>15}{elapsed:>10.2f}")
    (_, our_requests, _, our_time), (_, sdk_requests, _, sdk_time) = rows
    print(
        f"ratios (SDK / aio_classify): requests {sdk_requests / our_requests:.0f}x, "
        f"wall time {sdk_time / our_time:.1f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.005)
    asyncio.run(main(parser.parse_args()))
