"""500 ``create_job`` calls gathered at once against a server that allows 50 creates a second
(token bucket, burst 20): aio_classify's adaptive throttling versus the official SDK, for each
kind of hint a 429 may carry (``Retry-After`` seconds, ``retry-after-ms``, none), plus
aio_classify with an explicit cap ``rate_limit={"create": 45}``.

    python benchmarks/bench_create.py [--creates 500] [--rate 50] [--burst 20] [--latency 0.02]
                                      [--plot docs/images/bench_create.png]

Each run gets a fresh fake server in its own process, with ``--latency`` seconds added to every
request. The ideal wall time is ``(creates - burst) / rate``: the burst goes at once, the rest at
the server's rate. ``--plot`` draws cumulative sends over time per hint, 429s marked.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import llama_cloud
from fakeproc import ROOT, Admin, fake_server

from aio_classify import ClassifyClient, ClassifyError

RULES = [
    {"type": "invoice", "description": "Has an invoice number and an amount due."},
    {"type": "receipt", "description": "Proof of purchase with items and taxes paid."},
]
HINTS = ("seconds", "ms", "none")

#: A contender creates ``n`` jobs gathered at once and returns how many calls failed.
Contender = Callable[[str, str, int], Awaitable[int]]


def ours(rate_limit: dict[str, float] | None = None) -> Contender:
    async def run(url: str, key: str, n: int) -> int:
        async with ClassifyClient(key, base_url=url, rate_limit=rate_limit) as client:
            results = await asyncio.gather(
                *(client.create_job(f"dfl-{i}.pdf", {"rules": RULES}) for i in range(n)),
                return_exceptions=True,
            )
        return _failures(results, ClassifyError)

    return run


async def sdk(url: str, key: str, n: int) -> int:
    async with llama_cloud.AsyncLlamaCloud(api_key=key, base_url=url) as client:
        results = await asyncio.gather(
            *(
                client.classify.create(file_input=f"dfl-{i}.pdf", configuration={"rules": RULES})
                for i in range(n)
            ),
            return_exceptions=True,
        )
    return _failures(results, llama_cloud.APIError)


def _failures(results: list[Any], expected: type[BaseException]) -> int:
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, expected):
            raise result
    return sum(isinstance(result, BaseException) for result in results)


async def measure(
    contender: Contender, hint: str, args: argparse.Namespace
) -> tuple[dict[str, Any], list[tuple[float, bool]]]:
    """One run on a fresh server: the table's row and the server's log of answers."""
    with fake_server(latency=args.latency) as (url, key):
        async with aiohttp.ClientSession() as session:
            admin = Admin(session, url, key)
            await admin.rate_limit("create", args.rate, burst=args.burst, hint=hint)
            started = time.perf_counter()
            failed = await contender(url, key, args.creates)
            wall = time.perf_counter() - started
            report = await admin.rate_limit_report()
            stats = await admin.stats()
            async with ClassifyClient(key, base_url=url) as reader:
                created = len([job async for job in reader.list_jobs(page_size=100)])
    answers = report["answers"]["create"]
    row = {
        "created": created,
        "failed": failed,
        "429s": answers["throttled"],
        "requests": stats["by_route"].get("POST /api/v2/classify", 0),
        "wall": wall,
    }
    return row, [(when, throttled) for when, throttled in report["log"]["create"]]


def plot(
    logs: dict[tuple[str, str], list[tuple[float, bool]]], args: argparse.Namespace, path: Path
) -> None:
    """Top row: both contenders per hint; bottom row: aio_classify alone, zoomed in."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, grid = plt.subplots(2, len(HINTS), figsize=(15, 8.5))
    longest = max(log[-1][0] - log[0][0] for log in logs.values()) + 0.5
    zoom = max(log[-1][0] - log[0][0] for (name, _), log in logs.items() if name == "aio_classify")
    for column, hint in enumerate(HINTS):
        for row, (contenders, end) in enumerate(
            [(("aio_classify", "official SDK"), longest), (("aio_classify",), zoom + 0.5)]
        ):
            axis = grid[row][column]
            for name in contenders:
                _draw(axis, name, logs[(name, hint)])
            axis.plot(
                [0, end],
                [args.burst, args.burst + args.rate * end],
                "k--",
                lw=1,
                label="server allows",
            )
            top = max(len(logs[(name, hint)]) for name in contenders)
            axis.set_xlim(0, end)
            axis.set_ylim(0, top * 1.05)
            axis.set_title(f"hint: {hint}" + ("" if row == 0 else " (aio_classify only)"))
            axis.set_xlabel("seconds since the first request")
            axis.legend(fontsize=8, loc="upper left")
        grid[0][0].set_ylabel("requests received (cumulative)")
        grid[1][0].set_ylabel("requests received (cumulative)")
    figure.suptitle(
        f"{args.creates} create_job calls gathered at once; server allows {args.rate:g}/s, "
        f"burst {args.burst:g}, {args.latency * 1000:.0f} ms latency; 429s marked x"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    print(f"plot written to {path}")


def _draw(axis: Any, name: str, log: list[tuple[float, bool]]) -> None:
    colour, mark = {"aio_classify": ("tab:blue", "red"), "official SDK": ("tab:orange", "darkred")}[
        name
    ]
    times = [when - log[0][0] for when, _ in log]
    axis.plot(times, range(1, len(log) + 1), color=colour, label=f"{name}: requests")
    refused = [(t, i + 1) for i, (t, (_, no)) in enumerate(zip(times, log, strict=True)) if no]
    axis.scatter(
        [t for t, _ in refused],
        [i for _, i in refused],
        marker="x",
        s=16,
        color=mark,
        label=f"{name}: 429 ({len(refused)})",
        zorder=3,
    )


async def main(args: argparse.Namespace) -> None:
    ideal = (args.creates - args.burst) / args.rate
    runs: list[tuple[str, str, Contender]] = []
    for hint in HINTS:
        runs += [("aio_classify", hint, ours()), ("official SDK", hint, sdk)]
    capped = f'aio_classify, rate_limit={{"create": {args.cap:g}}}'
    runs.append((capped, "seconds", ours({"create": args.cap})))
    rows = []
    logs = {}
    for name, hint, contender in runs:
        row, log = await measure(contender, hint, args)
        rows.append((name, hint, row))
        logs[(name, hint)] = log
    print(
        f"{args.creates} creates gathered at once; server allows {args.rate:g}/s, burst "
        f"{args.burst:g}; {args.latency * 1000:.0f} ms latency; ideal wall "
        f"({args.creates} - {args.burst:g}) / {args.rate:g} = {ideal:.1f} s"
    )
    print()
    columns = ["hint", "contender", "jobs created", "calls failed", "429 answers", "requests"]
    print("| " + " | ".join([*columns, "wall s", "wall / ideal"]) + " |")
    print("|---" * (len(columns) + 2) + "|")
    for name, hint, row in rows:
        print(
            f"| {hint} | {name} | {row['created']} | {row['failed']} | {row['429s']} | "
            f"{row['requests']} | {row['wall']:.1f} | {row['wall'] / ideal:.2f}x |"
        )
    if args.plot:
        plot(logs, args, Path(args.plot))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--burst", type=float, default=20.0)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--cap", type=float, default=45.0, help="the explicit rate_limit run")
    parser.add_argument("--plot", default=str(ROOT / "docs" / "images" / "bench_create.png"))
    asyncio.run(main(parser.parse_args()))
