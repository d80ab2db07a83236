"""What ``client.with_options(...)`` costs to make, against a lookup over loopback for scale:
cheap enough to make one per request (the web-app pattern: a view with the handler's budget).

    python benchmarks/bench_options.py [--rounds 7] [--number 20000]

Prints a markdown table: median microseconds per call over ``rounds`` runs of ``number`` calls.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

from aio_classify import ClassifyClient
from aio_classify.testing import FakeClassifyServer

KEY = "bench-key"


def per_call_us(make: Callable[[], object], *, rounds: int, number: int) -> float:
    """Median over ``rounds`` of the mean time of ``number`` calls of ``make``, in µs."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(number):
            make()
        samples.append((time.perf_counter() - started) / number * 1e6)
    return statistics.median(samples)


async def lookup_us(client: ClassifyClient, job_id: str, *, number: int) -> float:
    started = time.perf_counter()
    for _ in range(number):
        await client.with_options(total_timeout=2.0).get_job(job_id)
    return (time.perf_counter() - started) / number * 1e6


async def main(rounds: int, number: int) -> None:
    async with FakeClassifyServer(KEY) as fake, ClassifyClient(KEY, base_url=fake.url) as client:
        (job_id,) = fake.seed_jobs(1)
        rows = {
            "with_options(timeout=2.0)": per_call_us(
                lambda: client.with_options(timeout=2.0), rounds=rounds, number=number
            ),
            "with_options(total_timeout=2.0, extra_headers={1 header}, max_retries=1)": (
                per_call_us(
                    lambda: client.with_options(
                        total_timeout=2.0, extra_headers={"X-Tenant": "a"}, max_retries=1
                    ),
                    rounds=rounds,
                    number=number,
                )
            ),
            "a view of a view: .with_options(timeout=2.0).with_options(max_retries=0)": (
                per_call_us(
                    lambda: client.with_options(timeout=2.0).with_options(max_retries=0),
                    rounds=rounds,
                    number=number,
                )
            ),
            "for scale: get_job through a fresh view, fake on loopback": await lookup_us(
                client, job_id, number=500
            ),
        }
    print("| what | µs per call (median) |\n|---|---:|")
    for what, micros in rows.items():
        print(f"| `{what}` | {micros:.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=20_000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rounds, arguments.number))
