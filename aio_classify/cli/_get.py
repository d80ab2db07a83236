"""``aio-classify get``: jobs looked up by id, batched into list calls (``get_jobs``); an id the
service does not know is named on stderr (escaped, like every error line) and makes the exit
code 1."""

from __future__ import annotations

import argparse
import sys

from .._core.sanitize import one_line
from ._command import Command
from ._exit import PROG, ExitCode
from ._options import add_id_arguments, make_client, output_writer, read_ids

__all__ = ["COMMAND"]

MAX_ID_CHARS = 200
"""An id named on stderr is cut here, its control characters shown as escapes."""


async def run_get(args: argparse.Namespace) -> int:
    ids = read_ids(args.ids, sys.stdin)
    async with make_client(args) as client:
        jobs = await client.get_jobs(ids, concurrency=args.concurrency)
    writer = output_writer(args, header_when_empty=False)  # no header above "not found"
    for job in jobs.values():
        writer.write(job)
    writer.finish()
    missing = [job_id for job_id in ids if job_id not in jobs]
    for job_id in missing:
        print(f"{PROG}: not found: {one_line(job_id, MAX_ID_CHARS)}", file=sys.stderr)
    return ExitCode.FAILED if missing else ExitCode.OK


COMMAND = Command("get", "look jobs up by id (batched)", add_id_arguments, run_get)
