"""``aio-classify list``: jobs page after page, flushed as they come, or with ``--parallel N`` a
date range cut into N windows listed side by side (``scan_jobs``)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from datetime import datetime

from .._core.dates import parse_iso_datetime
from .._core.models import JobStatus
from .._validation import check_int
from ._command import Command
from ._exit import ExitCode, UsageError
from ._options import checked, make_client, output_writer, positive_int

__all__ = ["COMMAND"]

#: Jobs per list request unless --page-size says otherwise: the service's maximum, so an export
#: takes half the requests of the service's default of 50.
PAGE_SIZE = 100

_page_size = checked(int, lambda value: check_int(value, "it", low=1, high=100), "a whole number")


MAX_PARALLEL = 256
"""``--parallel``'s ceiling: as many requests in flight as windows, so a typo such as
``--parallel 100000`` must not open a hundred thousand connections."""

_parallel_count = checked(
    int, lambda value: check_int(value, "it", low=1, high=MAX_PARALLEL), "a whole number"
)


def _status(text: str) -> JobStatus:
    try:
        return JobStatus(text.upper())
    except ValueError:
        allowed = ", ".join(member.value for member in JobStatus)
        raise argparse.ArgumentTypeError(f"must be one of {allowed}; got {text!r}") from None


def _iso_datetime(text: str) -> datetime:
    try:
        return parse_iso_datetime(text)  # naive means UTC
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 date or date-time: {text!r} (e.g. 2026-01-31 or 2026-01-31T12:00Z)"
        ) from None


def add_arguments(listing: argparse.ArgumentParser) -> None:
    listing.add_argument("--status", type=_status, help="PENDING, RUNNING, COMPLETED, ...")
    listing.add_argument("--configuration-id")
    listing.add_argument(
        "--job-id", dest="job_ids", action="append", metavar="ID", help="repeatable"
    )
    listing.add_argument(
        "--created-after",
        "--created-at-on-or-after",
        dest="created_after",
        type=_iso_datetime,
        metavar="DATE",
        help="ISO 8601; naive means UTC",
    )
    listing.add_argument(
        "--created-before",
        "--created-at-on-or-before",
        dest="created_before",
        type=_iso_datetime,
        metavar="DATE",
    )
    listing.add_argument("--limit", type=positive_int, help="print at most this many jobs")
    listing.add_argument(
        "--page-size", type=_page_size, help=f"jobs per request, 1..100 ({PAGE_SIZE})"
    )
    listing.add_argument("--page-token", help="resume from a page's next_page_token")
    listing.add_argument(
        "--parallel",
        type=_parallel_count,
        metavar="N",
        help="with both date bounds: cut the range into N windows listed side by side "
        f"(scan_jobs), at most {MAX_PARALLEL}; rows come in no set order",
    )


def check_date_range(args: argparse.Namespace) -> None:
    """An inverted range would list nothing and succeed: say so instead."""
    after, before = args.created_after, args.created_before
    if after is not None and before is not None and after > before:
        raise UsageError(
            f"--created-after ({after.isoformat()}) is later than --created-before "
            f"({before.isoformat()}): no job can match"
        )


async def run_list(args: argparse.Namespace) -> int:
    check_date_range(args)
    if args.parallel is not None:
        return await run_scan(args)
    async with make_client(args) as client:
        pager = client.list_jobs(
            status=args.status,
            configuration_id=args.configuration_id,
            job_ids=args.job_ids,
            created_at_on_or_after=args.created_after,
            created_at_on_or_before=args.created_before,
            page_size=args.page_size or min(PAGE_SIZE, args.limit or PAGE_SIZE),
            page_token=args.page_token,
            limit=args.limit,
        )
        writer = None
        remaining = args.limit
        # Page by page, flushing after each, so a pipe sees rows before the last page is asked.
        # The writer starts with the first page: a failed listing prints no header.
        async for page in pager.pages():
            writer = writer or output_writer(args)
            items = page.items if remaining is None else page.items[:remaining]
            for job in items:
                writer.write(job)
            sys.stdout.flush()
            if remaining is not None:
                remaining -= len(items)
        (writer or output_writer(args)).finish()
    return ExitCode.OK


async def run_scan(args: argparse.Namespace) -> int:
    """``list --parallel N``: the date range as N windows (``scan_jobs``), rows as they come."""
    if args.created_after is None or args.created_before is None:
        raise UsageError("--parallel needs both --created-after and --created-before")
    if args.job_ids or args.page_token:
        raise UsageError("--parallel lists a date range; it takes no --job-id or --page-token")
    async with make_client(args) as client:
        jobs = client.scan_jobs(
            args.created_after,
            args.created_before,
            partitions=args.parallel,
            concurrency=args.parallel,
            status=args.status,
            configuration_id=args.configuration_id,
            page_size=args.page_size or 100,
        )
        writer = None
        count = 0
        async with contextlib.aclosing(jobs) as scanned:
            async for job in scanned:
                writer = writer or output_writer(args)
                writer.write(job)
                count += 1
                if count == args.limit:
                    break
                if count % 100 == 0:  # a pipe sees rows while the scan goes on
                    sys.stdout.flush()
        (writer or output_writer(args)).finish()
    return ExitCode.OK


COMMAND = Command("list", "list jobs, page after page", add_arguments, run_list)
