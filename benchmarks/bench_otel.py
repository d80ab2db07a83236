"""What OpenTelemetry costs a listing: CPU per job record when listing 10,000 jobs
(page_size=100) from the fake server,
- without the ``opentelemetry`` package (made unimportable, as on a machine without it),
- with ``opentelemetry-api`` installed and no SDK configured (the API's no-op tracer and meter),
- with the SDK recording every span and metric to an in-memory exporter and reader.

Each measurement runs in a fresh child process (so "without the package" really imports none of
it): one listing to warm up, then one listing measured by the child's CPU time. Rounds are
interleaved so machine noise hits the three alike; the median of each is reported.

    python benchmarks/bench_otel.py [--jobs 10000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from typing import Any

from fakeproc import fake_server
from results import Chart, Section, Target, ratio

API_KEY = "bench-key"
PAGE_SIZE = 100

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


def child(url: str, variant: str, jobs: int) -> None:
    """In the child: warm up, then print the CPU seconds of one listing."""
    if variant == ABSENT:
        sys.modules["opentelemetry"] = None  # type: ignore[assignment]
    asyncio.run(listing(url, variant))
    started = time.process_time()
    count = asyncio.run(listing(url, variant))
    elapsed = time.process_time() - started
    if count != jobs:
        raise SystemExit(f"listed {count} jobs, expected {jobs}")
    if variant == ABSENT and any(name.startswith("opentelemetry.") for name in sys.modules):
        raise SystemExit("opentelemetry was imported")
    print(elapsed)


def cpu_seconds(url: str, variant: str, jobs: int) -> float:
    printed = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--url", url, "--jobs", str(jobs)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(printed)


def measure(jobs: int, rounds: int) -> Section:
    samples: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    with fake_server("--jobs", str(jobs), api_key=API_KEY) as (url, _):
        for _ in range(rounds):
            for variant in VARIANTS:
                samples[variant].append(cpu_seconds(url, variant, jobs))
    per_record = {name: statistics.median(values) / jobs * 1e6 for name, values in samples.items()}
    base = per_record[ABSENT]
    rows = [[name, f"{micros:.2f}", ratio(micros, base)] for name, micros in per_record.items()]
    return Section(
        title="OpenTelemetry: what it costs a listing",
        intro=(
            f"{jobs:,} jobs listed with page_size={PAGE_SIZE} from the fake server in its own "
            f"process; CPU time of one listing in a fresh client process (after one listing to "
            f"warm up), median of {rounds} interleaved rounds. The SDK records one INTERNAL and "
            "one CLIENT span per page and the metrics, to an in-memory exporter and reader."
        ),
        headers=["client", "CPU us/record", "x without the package"],
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
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url, args.child, args.jobs)
    else:
        print(measure(args.jobs, args.rounds).markdown())


if __name__ == "__main__":
    main()
