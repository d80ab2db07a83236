"""Run the fake server as its own process (benchmarks, the demo, manual testing).

The first two lines on stdout are the base URL and the API key, flushed at once so a parent
process can read them (on a terminal they are labelled, for a person); the server then runs
until SIGINT or SIGTERM and exits 0.

With ``--finish-after``, the seeded jobs still PENDING or RUNNING start finishing at the first API
request, not at start: someone who starts the fake, opens another terminal and lists the PENDING
jobs still finds them, and sees them finish while they wait.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .._fake_server_options import add_fake_server_arguments
from ._server import DEFAULT_PROJECT_ID, FakeClassifyServer, Lifecycle


@asynccontextmanager
async def serving(args: argparse.Namespace) -> AsyncIterator[FakeClassifyServer]:
    """The fake the options ask for, started (and its seeded jobs' lifecycle armed)."""
    lifecycle = None
    if args.finish_after is not None:
        lifecycle = Lifecycle(args.finish_after / 2, args.finish_after, args.fail_ratio)
    async with FakeClassifyServer(
        args.api_key,
        host=args.host,
        port=args.port,
        jobs=args.jobs,
        seed=args.seed,
        project_id=args.project_id or DEFAULT_PROJECT_ID,
        lifecycle=lifecycle,
        latency=args.latency,
        input_fields=args.input_fields,
    ) as server:
        if args.finish_after is None:
            yield server
            return
        seeded = server.unfinished_job_ids  # not the jobs the first requests create
        finishing = asyncio.create_task(_finish_once_asked(server, seeded, args))
        try:
            yield server
        finally:
            finishing.cancel()
            await asyncio.gather(finishing, return_exceptions=True)


async def _finish_once_asked(
    server: FakeClassifyServer, job_ids: list[str], args: argparse.Namespace
) -> None:
    await server.stats.first_request.wait()
    server.finish_later(
        job_ids, within=args.finish_after, seed=args.seed, fail_ratio=args.fail_ratio
    )


async def serve(args: argparse.Namespace) -> None:
    """Serve as ``args`` say, printing the URL and the key, until SIGINT or SIGTERM.

    For a program reading stdout, the URL and the key are the first two lines, bare; on a
    terminal they are labelled, with the variables to export in another terminal.

    Raises:
        OSError: the server cannot start; a port in use says so and suggests ``--port 0``.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with serving(args) as server:
            print(_introduction(server) if sys.stdout.isatty() else _bare(server), flush=True)
            await stop.wait()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise OSError(
            f"port {args.port} on {args.host} is already in use (another fake server?): stop "
            "what serves it, or pass --port 0 for a free port"
        ) from None


def _bare(server: FakeClassifyServer) -> str:
    return f"{server.url}\n{server.api_key}"


def _introduction(server: FakeClassifyServer) -> str:
    return (
        f"URL      {server.url}\n"
        f"API key  {server.api_key}\n"
        "In another terminal:\n"
        f"  export LLAMA_CLOUD_BASE_URL={server.url} LLAMA_CLOUD_API_KEY={server.api_key}\n"
        "Serving until Ctrl-C."
    )


def run_standalone(argv: list[str] | None = None) -> int:
    """``python -m aio_classify.testing [options]``: serve until SIGINT or SIGTERM.

    Prints the base URL and the API key (one line each) first; returns the exit code (1 when
    the server cannot start, e.g. the port is taken).
    """
    parser = argparse.ArgumentParser(
        prog="python -m aio_classify.testing",
        description="Serve a fake LlamaCloud Classify v2 API on this machine.",
    )
    add_fake_server_arguments(parser)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args))
    except OSError as exc:
        print(f"cannot start the fake server: {exc}", file=sys.stderr)
        return 1
    return 0
