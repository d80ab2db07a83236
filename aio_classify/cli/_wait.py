"""``aio-classify wait``: jobs watched until they end, progress on stderr, the finished jobs on
stdout; ``--exit-status`` makes a FAILED or CANCELLED job the exit code 3."""

from __future__ import annotations

import argparse
import sys

from .._core.models import JobStatus
from ._command import Command
from ._exit import ExitCode
from ._options import add_id_arguments, make_client, output_writer, read_ids, seconds
from ._progress import watch_with_progress

__all__ = ["COMMAND"]

UNSUCCESSFUL = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})


def add_arguments(waiting: argparse.ArgumentParser) -> None:
    add_id_arguments(waiting)
    waiting.add_argument("--poll-interval", type=seconds, default=1.0)
    waiting.add_argument("--max-interval", type=seconds, default=5.0)
    waiting.add_argument("--max-wait", type=seconds, default=7200.0, help="give up after (7200 s)")
    waiting.add_argument(
        "--exit-status",
        action="store_true",
        help=f"exit {ExitCode.JOBS_FAILED.value} when any job ended FAILED or CANCELLED",
    )


async def run_wait(args: argparse.Namespace) -> int:
    ids = read_ids(args.ids, sys.stdin)
    async with make_client(args) as client:
        writer = output_writer(args)
        finished = await watch_with_progress(
            client,
            ids,
            print_jobs=writer.write,
            poll_interval=args.poll_interval,
            max_interval=args.max_interval,
            timeout=args.max_wait,
            concurrency=args.concurrency,
        )
        writer.finish()
    failed = any(job.status in UNSUCCESSFUL for job in finished.values())
    return ExitCode.JOBS_FAILED if args.exit_status and failed else ExitCode.OK


COMMAND = Command(
    "wait", "wait until jobs finish, with progress on stderr", add_arguments, run_wait
)
