"""What OpenTelemetry costs a listing: CPU per job record when listing 10,000 jobs
(page_size=100) from the fake server,
- without the ``opentelemetry`` package (made unimportable, as on a machine without it),
- with ``opentelemetry-api`` installed and no SDK configured (the API's no-op tracer and meter),
- with the SDK recording every span and metric to an in-memory exporter and reader.

Each measurement runs in a fresh child process (so "without the package" really imports none of
it): one listing to warm up, then ``LISTINGS`` listings, each timed by the child's CPU time, of
which the child reports the least (another process taking the core only ever adds), in all (user
and system: most of the system time is the loopback sends, the same bytes for the three) and in
user time alone (the Python that differs). Rounds are interleaved so machine noise hits the three
alike; the median of each is reported.

    python benchmarks/bench_otel.py [--jobs 10000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

from fakeproc import fake_server
from results import Chart, Section, Target, ratio

API_KEY = "bench-key"
PAGE_SIZE = 100
#: Listings each child times, after one to warm up.
LISTINGS = 5

ABSENT = "no opentelemetry package"
API_ONLY = "opentelemetry-api, no SDK"
RECORDING = "SDK recording in memory"
VARIANTS = (ABSENT, API_ONLY, RECORDING)


def providers(variant: str) -> dict[str, Any]:
    """The client's provider arguments for ``variant`` (the SDK's only when recording)."""
    if variant != RECORDING:
        return {}
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return {"tracer_provider": tracer_provider, "meter_provider": meter_provider}


async def listing(url: str, variant: str) -> int:
    from aio_classify import ClassifyClient

    count = 0
    async with ClassifyClient(API_KEY, base_url=url, **providers(variant)) as client:
        async for _job in client.list_jobs(page_size=PAGE_SIZE):
            count += 1
    return count


def user_seconds() -> float:
    """This process's user CPU seconds, to the microsecond (``os.times`` counts whole ticks)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime


def child(url: str, variant: str, jobs: int) -> None:
    """In the child: warm up, then print the least CPU seconds of ``LISTINGS`` listings."""
    if variant == ABSENT:
        sys.modules["opentelemetry"] = None  # type: ignore[assignment]
    asyncio.run(listing(url, variant))
    totals, users = [], []
    for _ in range(LISTINGS):
        started, started_user = time.process_time(), user_seconds()
        count = asyncio.run(listing(url, variant))
        totals.append(time.process_time() - started)
        users.append(user_seconds() - started_user)
        if count != jobs:
            raise SystemExit(f"listed {count} jobs, expected {jobs}")
    if variant == ABSENT and any(name.startswith("opentelemetry.") for name in sys.modules):
        raise SystemExit("opentelemetry was imported")
    print(min(totals), min(users))


def cpu_seconds(url: str, variant: str, jobs: int) -> tuple[float, float]:
    """The least CPU seconds (all, user) of a listing in a fresh child."""
    printed = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--url", url, "--jobs", str(jobs)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    total, user = printed.split()
    return float(total), float(user)


def measure(jobs: int, rounds: int) -> Section:
    samples: dict[str, list[tuple[float, float]]] = {variant: [] for variant in VARIANTS}
    with fake_server("--jobs", str(jobs), api_key=API_KEY) as (url, _):
        for _ in range(rounds):
            for variant in VARIANTS:
                samples[variant].append(cpu_seconds(url, variant, jobs))

    def median_micros(name: str, which: int) -> float:
        return statistics.median(sample[which] for sample in samples[name]) / jobs * 1e6

    per_record = {name: median_micros(name, 0) for name in VARIANTS}
    user = {name: median_micros(name, 1) for name in VARIANTS}
    base, user_base = per_record[ABSENT], user[ABSENT]
    rows = [
        [
            name,
            f"{micros:.2f}",
            ratio(micros, base),
            f"{user[name]:.2f}",
            ratio(user[name], user_base),
        ]
        for name, micros in per_record.items()
    ]
    return Section(
        title="OpenTelemetry: what it costs a listing",
        intro=(
            f"{jobs:,} jobs listed with page_size={PAGE_SIZE} from the fake server in its own "
            f"process; in a fresh client process per round, the least CPU time of {LISTINGS} "
            f"listings (after one to warm up); median of {rounds} interleaved rounds. The SDK "
            "records one INTERNAL and one CLIENT span per page and the metrics, to an in-memory "
            "exporter and reader."
        ),
        headers=[
            "client",
            "CPU us/record",
            "x without the package",
            "user CPU us/record",
            "x without, user",
        ],
        rows=rows,
        charts=[
            Chart(
                name="otel_cpu_per_record",
                title=f"Listing {jobs:,} jobs with and without OpenTelemetry: CPU per record",
                ylabel="microseconds per record",
                labels=list(per_record),
                series={"CPU": list(per_record.values())},
            )
        ],
        targets=[
            Target(
                "opentelemetry-api installed, no SDK: CPU <= 1.03x without the package",
                ratio(per_record[API_ONLY], base),
                per_record[API_ONLY] <= 1.03 * base,
            ),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url, args.child, args.jobs)
    else:
        print(measure(args.jobs, args.rounds).markdown())


if __name__ == "__main__":
    main()
