"""Run the benchmarks and write ``docs/benchmarks.md`` with their tables, targets and plots
(``docs/images/*.png``). ``nox -s bench`` runs this; matplotlib is installed there only.

    python benchmarks/report.py [bench_list bench_otel bench_batch bench_poll bench_handlers
                                 bench_scan bench_create bench_webhooks bench_sync bench_workers
                                 bench_options]

Naming some benchmarks runs only those, and the page then holds only their sections. Each
benchmark keeps its contenders in one process run, interleaved, and reports ratios within that
run: on a shared machine absolute figures move from run to run, ratios much less.
"""

from __future__ import annotations

import asyncio
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import bench_batch
import bench_handlers
import bench_list
import bench_otel
import bench_poll
import bench_scan
import bench_sync
import matplotlib

matplotlib.use("Agg")  # no display: draw to files (before pyplot is imported)
import matplotlib.pyplot as plt
from results import Chart, Section

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
IMAGES = DOCS / "images"


def external(
    script: str, title: str, *, table: bool, image: str | None = None
) -> Callable[[], str]:
    """A benchmark that prints its own report (a markdown table when ``table``, else plain text,
    shown as is) and maybe draws its own plot: run as it is, its output embedded."""

    def run() -> str:
        path = Path(__file__).with_name(f"{script}.py")
        printed = subprocess.run(
            [sys.executable, str(path)], check=True, capture_output=True, text=True
        ).stdout
        kept = "\n".join(line for line in printed.splitlines() if not line.startswith("plot "))
        body = kept.strip() if table else f"```text\n{kept.strip()}\n```"
        plot = f"\n\n![{title}](images/{image})" if image else ""
        return f"## {title}\n\n{body}{plot}\n"

    return run


BENCHMARKS: dict[str, Callable[[], Section | str]] = {
    "bench_list": lambda: bench_list.measure(jobs=10_000, big=100_000, rounds=7),
    "bench_otel": lambda: bench_otel.measure(jobs=10_000, rounds=15),
    "bench_batch": lambda: asyncio.run(
        bench_batch.collect(jobs=10_000, concurrency=8, latency=0.005, rounds=5)
    ),
    "bench_poll": lambda: asyncio.run(
        bench_poll.collect(
            jobs=5000, within=10.0, concurrency=8, sdk_concurrency=100, latency=0.005, rounds=5
        )
    ),
    "bench_handlers": lambda: asyncio.run(
        bench_handlers.collect(jobs=1000, within=10.0, latency=0.005)
    ),
    "bench_scan": lambda: asyncio.run(bench_scan.collect(jobs=20_000, latency=0.02, rounds=5)),
    "bench_create": external(
        "bench_create",
        "Gathered creates against a rate limit",
        table=True,
        image="bench_create.png",
    ),
    "bench_webhooks": external("bench_webhooks", "Waiting with webhook events", table=False),
    "bench_sync": lambda: bench_sync.measure(jobs=10_000, rounds=7, calls=2000),
    "bench_workers": external("bench_workers", "Many workers, one service", table=True),
    "bench_options": external("bench_options", "What a per-call view costs", table=True),
}


def draw(chart: Chart) -> None:
    figure, axes = plt.subplots(figsize=(7, 3.6))
    count = len(chart.series)
    width = 0.8 / count
    for index, (name, values) in enumerate(chart.series.items()):
        positions = [x + (index - (count - 1) / 2) * width for x in range(len(chart.labels))]
        bars = axes.bar(positions, values, width, label=name if count > 1 else None)
        axes.bar_label(bars, fmt="%.3g", fontsize=8)
    axes.set_xticks(
        range(len(chart.labels)), [label.replace(" (", "\n(") for label in chart.labels]
    )
    axes.tick_params(axis="x", labelsize=8)
    axes.set_ylabel(chart.ylabel)
    axes.set_title(chart.title, fontsize=10)
    if chart.log:
        axes.set_yscale("log")
    if count > 1:
        axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(IMAGES / f"{chart.name}.png", dpi=110)
    plt.close(figure)


def main() -> None:
    names = sys.argv[1:] or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    IMAGES.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    sections = []
    for name in names:
        print(f"running {name} ...", flush=True)
        section = BENCHMARKS[name]()
        if isinstance(section, Section):
            for chart in section.charts:
                draw(chart)
            section = section.markdown(image_dir="images")
        print(section, flush=True)
        sections.append(section)
    header = [
        "# Benchmarks",
        "",
        "Written by `nox -s bench` (benchmarks/report.py); do not edit by hand. One run, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()} on "
        f"{platform.machine()}, {time.monotonic() - started:.0f} s. The fake server runs in its "
        "own process; CPU is the client process's. The machine may be shared: compare the "
        "ratios within a table, not absolute figures across runs.",
        "",
    ]
    (DOCS / "benchmarks.md").write_text("\n".join(header) + "\n" + "\n".join(sections))
    print(f"wrote {DOCS / 'benchmarks.md'}")


if __name__ == "__main__":
    main()
