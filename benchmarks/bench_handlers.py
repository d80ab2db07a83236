"""Many handlers, one client: 1,000 tasks each awaiting ``wait_for_job`` on its own job (the
natural web-app code) against one ``watch_jobs`` over the same ids and against the same tasks
with ``coalesce=False``; then 1,000 ``get_job`` calls gathered at once, coalesced and not.

    python benchmarks/bench_handlers.py [--jobs 1000] [--within 10] [--latency 0.005]

Reported per waiting contender: requests, CPU of the client process, and the delay between a job
turning terminal on the server and its caller seeing it (mean / p95); all use the same intervals
(1 s growing to 5 s) and fresh jobs finishing on the same schedule. For the gathered gets:
requests and wall time. The fake server runs in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import aiohttp
from fakeproc import Admin, Waiter, fake_server, measure_wait
from results import Section, Target, ratio

from aio_classify import ClassifyClient

POLL_INTERVAL, MAX_INTERVAL = 1.0, 5.0


def handlers(url: str, key: str, *, coalesce: bool) -> Waiter:
    """One task per job, each awaiting ``wait_for_job`` on one shared client."""

    async def wait_each(ids: list[str]) -> dict[str, float]:
        seen: dict[str, float] = {}
        async with ClassifyClient(key, base_url=url, coalesce=coalesce) as client:

            async def handler(job_id: str) -> None:
                await client.wait_for_job(
                    job_id, poll_interval=POLL_INTERVAL, max_interval=MAX_INTERVAL
                )
                seen[job_id] = time.time()

            await asyncio.gather(*(handler(job_id) for job_id in ids))
        return seen

    return wait_each


def watch(url: str, key: str) -> Waiter:
    async def watch_all(ids: list[str]) -> dict[str, float]:
        seen: dict[str, float] = {}
        async with ClassifyClient(key, base_url=url) as client:
            jobs = client.watch_jobs(ids, poll_interval=POLL_INTERVAL, max_interval=MAX_INTERVAL)
            async for job in jobs:
                seen[job.id] = time.time()
        return seen

    return watch_all


async def gathered_gets(
    admin: Admin, url: str, key: str, jobs: int, *, coalesce: bool
) -> tuple[int, float]:
    """(requests, wall seconds) of ``jobs`` ``get_job`` calls gathered at once."""
    ids = await admin.seed(jobs, "COMPLETED")
    async with ClassifyClient(key, base_url=url, coalesce=coalesce) as client:
        await client.get_job(ids[0])  # the session and its first connection, not measured
        await admin.reset_stats()
        started = time.perf_counter()
        found = await asyncio.gather(*(client.get_job(job_id) for job_id in ids))
        wall = time.perf_counter() - started
    assert [job.id for job in found] == ids
    return (await admin.stats())["requests"], wall


async def collect(jobs: int, within: float, latency: float) -> Section:
    names = [
        "wait_for_job per task (coalesced)",
        "watch_jobs over the same ids",
        "wait_for_job per task, coalesce=False",
    ]
    with fake_server(latency=latency) as (url, key):
        async with aiohttp.ClientSession() as session:
            admin = Admin(session, url, key)
            makers = {
                names[0]: handlers(url, key, coalesce=True),
                names[1]: watch(url, key),
                names[2]: handlers(url, key, coalesce=False),
            }
            runs = {
                name: await measure_wait(admin, make, jobs, within) for name, make in makers.items()
            }
            gets = {
                coalesce: await gathered_gets(admin, url, key, jobs, coalesce=coalesce)
                for coalesce in (True, False)
            }
    rows = [
        [
            name,
            str(requests),
            f"{cpu * 1000:.0f}",
            "",
            f"{statistics.mean(delays):.2f}",
            f"{statistics.quantiles(delays, n=20)[18]:.2f}",
        ]
        for name, (requests, cpu, delays) in runs.items()
    ]
    for coalesce, (requests, wall) in gets.items():
        label = "coalesced" if coalesce else "coalesce=False"
        rows.append(
            [f"{jobs:,} get_job gathered, {label}", str(requests), "", f"{wall * 1e3:.0f}", "", ""]
        )
    ours, watched = runs[names[0]], runs[names[1]]
    mean_ours, mean_watch = statistics.mean(ours[2]), statistics.mean(watched[2])
    return Section(
        title="Many handlers, one client: coalesced waits and gets",
        intro=(
            f"{jobs:,} tasks each awaiting `wait_for_job` on its own job (jobs finishing at random "
            f"within {within:.0f} s, {latency * 1000:.0f} ms added per request, intervals "
            f"{POLL_INTERVAL:.0f} s growing to {MAX_INTERVAL:.0f} s), against one `watch_jobs` "
            f"over the same ids and against the same tasks with `coalesce=False`; then {jobs:,} "
            f"`get_job` calls gathered at once (their wall time). One run."
        ),
        headers=["contender", "requests", "CPU ms", "wall ms", "mean delay s", "p95 delay s"],
        rows=rows,
        targets=[
            Target(
                "waiting handlers: requests <= 1.25x watch_jobs'",
                ratio(ours[0], watched[0]),
                ours[0] <= 1.25 * watched[0],
            ),
            Target(
                "waiting handlers: mean delay <= 1.2x watch_jobs'",
                ratio(mean_ours, mean_watch),
                mean_ours <= 1.2 * mean_watch,
            ),
            Target(
                f"{jobs:,} gathered get_job: <= 15 requests",
                str(gets[True][0]),
                gets[True][0] <= 15,
            ),
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--within", type=float, default=10.0)
    parser.add_argument("--latency", type=float, default=0.005)
    args = parser.parse_args()
    print(asyncio.run(collect(args.jobs, args.within, args.latency)).markdown())
