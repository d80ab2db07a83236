"""Run the fake server as its own process (benchmarks, the demo, manual testing).

The first two lines on stdout are the base URL and the API key, flushed at once so a parent
process can read them; the server then runs until SIGINT or SIGTERM and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from aio_classify.testing.server import FakeClassifyServer, Lifecycle


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The fake server's options, for this entry point and the ``aio-classify`` CLI."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--jobs", type=int, default=0, help="seed this many jobs")
    parser.add_argument("--seed", type=int, default=0, help="random seed for seeded jobs")
    parser.add_argument("--project-id", default="prj-default")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument(
        "--finish-after",
        type=float,
        default=None,
        help="jobs created by POST finish this many seconds later (RUNNING halfway), and the "
        "seeded PENDING and RUNNING jobs within as many seconds from the start; without it no "
        "job moves unless told to (see /_fake/ in the README)",
    )
    parser.add_argument("--fail-ratio", type=float, default=0.0, help="share of those that FAIL")


async def serve(args: argparse.Namespace) -> None:
    lifecycle = None
    if args.finish_after is not None:
        lifecycle = Lifecycle(args.finish_after / 2, args.finish_after, args.fail_ratio)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with FakeClassifyServer(
        args.api_key,
        host=args.host,
        port=args.port,
        jobs=args.jobs,
        seed=args.seed,
        project_id=args.project_id,
        lifecycle=lifecycle,
        latency=args.latency,
    ) as server:
        if args.finish_after is not None:
            server.finish_later(
                server.unfinished_job_ids,
                within=args.finish_after,
                seed=args.seed,
                fail_ratio=args.fail_ratio,
            )
        print(server.url, flush=True)
        print(server.api_key, flush=True)
        await stop.wait()


def run_standalone(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aio_classify.testing",
        description="Serve a fake LlamaCloud Classify v2 API on this machine.",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args))
    except OSError as exc:
        print(f"cannot start the fake server: {exc}", file=sys.stderr)
        return 1
    return 0
