"""``aio-classify``: list, look up, create and wait for classify jobs from a shell; run the fake
server or the demo.

Exit codes are ``ExitCode`` (listed in ``aio-classify --help``). Errors are one line on stderr;
``--debug`` adds the traceback and request logs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import datetime
from enum import IntEnum
from typing import Any, NoReturn, TypeVar

from .. import __version__
from .._client import ClassifyClient
from .._core.errors import ClassifyError
from .._core.models import ClassifyJob, JobStatus
from .._core.sanitize import message
from .._fake_server_options import add_fake_server_arguments
from .._validation import check_int, check_seconds
from ._create import RULES_FILE_HELP, configuration_from, created_in_order, rule_option
from ._notices import notices_on
from ._output import FIELDS, FORMATS, TABLE_FIELDS, JobWriter, make_writer
from ._progress import watch_with_progress

__all__ = ["ExitCode", "build_parser", "main"]

PROG = "aio-classify"
#: Jobs per list request unless --page-size says otherwise: the service's maximum, so an export
#: takes half the requests of the service's default of 50.
PAGE_SIZE = 100
UNSUCCESSFUL = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]
_T = TypeVar("_T")


class ExitCode(IntEnum):
    """What ``aio-classify`` exits with; ``--help`` lists them with their ``meaning``."""

    OK = 0
    FAILED = 1
    USAGE = 2
    JOBS_FAILED = 3
    INTERRUPTED = 130
    CLOSED_OUTPUT = 141

    @property
    def meaning(self) -> str:
        return _EXIT_MEANINGS[self]


_EXIT_MEANINGS = {
    ExitCode.OK: "success",
    ExitCode.FAILED: "an API or network error, or jobs not found",
    ExitCode.USAGE: "a usage error (bad option, no key, no ids)",
    ExitCode.JOBS_FAILED: "wait --exit-status: a job ended FAILED or CANCELLED",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
    ExitCode.CLOSED_OUTPUT: "the reader of the output went away (| head); 128 + SIGPIPE",
}


class UsageError(Exception):
    """Bad input found after parsing (no key, a refused URL, no ids): exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (not the whole usage block) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# -- argument types: each turns bad input into argparse's own one-line error ------------------


def _checked(
    convert: Callable[[str], _T], check: Callable[[_T], _T], kind: str
) -> Callable[[str], _T]:
    """An argument type: ``convert`` the text, then ``check`` it as the library checks its own
    arguments (``validation``); either failure becomes argparse's one-line error."""

    def parse(text: str) -> _T:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {kind}: {text!r}") from None
        try:
            return check(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


_positive_int = _checked(int, lambda value: check_int(value, "it", low=1), "a whole number")
_non_negative_int = _checked(int, lambda value: check_int(value, "it", low=0), "a whole number")
_page_size = _checked(int, lambda value: check_int(value, "it", low=1, high=100), "a whole number")
_seconds = _checked(float, lambda value: check_seconds(value, "it"), "a number")


def _status(text: str) -> JobStatus:
    try:
        return JobStatus(text.upper())
    except ValueError:
        allowed = ", ".join(member.value for member in JobStatus)
        raise argparse.ArgumentTypeError(f"must be one of {allowed}; got {text!r}") from None


def _iso_datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 date or date-time: {text!r} (e.g. 2026-01-31 or 2026-01-31T12:00Z)"
        ) from None


# -- the parser -------------------------------------------------------------------------------


def _connection_options() -> _Parser:
    """Options shared by every command that talks to the API.

    They are accepted before or after the command name; ``SUPPRESS`` keeps a value given before
    it from being reset by the subcommand's defaults.
    """
    options = _Parser(add_help=False)
    group = options.add_argument_group("connection (also read from the environment)")
    quiet = argparse.SUPPRESS
    group.add_argument("--base-url", default=quiet, help="default: $LLAMA_CLOUD_BASE_URL")
    group.add_argument("--api-key", default=quiet, help="default: $LLAMA_CLOUD_API_KEY")
    group.add_argument("--project-id", default=quiet)
    group.add_argument("--organization-id", default=quiet)
    group.add_argument("--timeout", type=_seconds, default=quiet, help="seconds per attempt (60)")
    group.add_argument(
        "--max-retries", type=_non_negative_int, default=quiet, help="retries per request (5)"
    )
    group.add_argument(
        "--debug", action="store_true", default=quiet, help="log requests; show tracebacks"
    )
    return options


def _fields(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in FIELDS]
    if unknown or not names:
        problem = f"unknown field {unknown[0]!r}" if unknown else "no field given"
        raise argparse.ArgumentTypeError(f"{problem}; choose from {','.join(FIELDS)}")
    return names


def _output_options() -> _Parser:
    options = _Parser(add_help=False)
    options.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (fits the terminal; ids are never cut), json, jsonl or csv; jsonl and csv "
        "stream",
    )
    options.add_argument(
        "--fields",
        type=_fields,
        metavar="NAME,...",
        help=f"columns of a table or csv, comma-separated, from: {', '.join(FIELDS)} "
        f"(table: {','.join(TABLE_FIELDS)}; csv: all)",
    )
    options.add_argument(
        "--csv-formulas",
        action="store_true",
        help="write CSV cells as sent, even those a spreadsheet would run as a formula "
        "(by default a cell starting with = + - @ tab or CR gets a leading ')",
    )
    return options


def _epilog() -> str:
    codes = "\n".join(f"  {code.value:>3}  {code.meaning}" for code in ExitCode)
    return f"exit codes:\n{codes}\n\nTry it with no key and no network: {PROG} demo"


def build_parser() -> argparse.ArgumentParser:
    connection = _connection_options()
    output = _output_options()
    parser = _Parser(
        prog=PROG,
        description="List, look up, create and wait for LlamaCloud Classify v2 jobs.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[connection],
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    # Subcommand parsers are ``_Parser`` too (argparse uses the parent's class), so their
    # errors are one line as well.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    listing = commands.add_parser(
        "list", parents=[connection, output], help="list jobs, page after page"
    )
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
    listing.add_argument("--limit", type=_positive_int, help="print at most this many jobs")
    listing.add_argument(
        "--page-size", type=_page_size, help=f"jobs per request, 1..100 ({PAGE_SIZE})"
    )
    listing.add_argument("--page-token", help="resume from a page's next_page_token")
    listing.add_argument(
        "--parallel",
        type=_positive_int,
        metavar="N",
        help="with both date bounds: cut the range into N windows listed side by side "
        "(scan_jobs); rows come in no set order",
    )
    listing.set_defaults(handler=run_list)

    for name, handler, summary in (
        ("get", run_get, "look jobs up by id (batched)"),
        ("wait", run_wait, "wait until jobs finish, with progress on stderr"),
    ):
        command = commands.add_parser(name, parents=[connection, output], help=summary)
        command.add_argument(
            "ids", nargs="+", metavar="ID", help="job ids; - reads them from stdin"
        )
        command.add_argument(
            "--concurrency", type=_positive_int, default=8, help="requests in flight (8)"
        )
        command.set_defaults(handler=handler)
    waiting = commands.choices["wait"]
    waiting.add_argument("--poll-interval", type=_seconds, default=1.0)
    waiting.add_argument("--max-interval", type=_seconds, default=5.0)
    waiting.add_argument("--max-wait", type=_seconds, default=7200.0, help="give up after (7200 s)")
    waiting.add_argument(
        "--exit-status",
        action="store_true",
        help=f"exit {ExitCode.JOBS_FAILED.value} when any job ended FAILED or CANCELLED",
    )

    creating = commands.add_parser(
        "create",
        parents=[connection, output],
        help="start one job per file id, and print the new jobs",
    )
    creating.add_argument(
        "file_inputs",
        nargs="+",
        metavar="FILE_ID",
        help="file ids (or parse job ids); - reads them from stdin, one a line",
    )
    creating.add_argument(
        "--rule",
        dest="rules",
        action="append",
        type=rule_option,
        metavar="TYPE=DESCRIPTION",
        help="a document type and how to recognise it; repeat for each type",
    )
    creating.add_argument("--rules-file", metavar="PATH", help=RULES_FILE_HELP)
    creating.add_argument("--configuration-id", help="a saved configuration instead of rules")
    creating.add_argument(
        "--concurrency", type=_positive_int, default=8, help="creations in flight (8)"
    )
    creating.set_defaults(handler=run_create)

    fake = commands.add_parser(
        "fake-server", help="serve a fake Classify API on this machine (Ctrl-C stops it)"
    )
    add_fake_server_arguments(fake)
    fake.set_defaults(handler=run_fake_server)

    demo = commands.add_parser(
        "demo", help="see it work: a fake server, thousands of jobs, no key, no network"
    )
    demo.add_argument("--jobs", type=_positive_int, default=3000, help="jobs seeded (3000)")
    demo.add_argument("--new-jobs", type=_positive_int, default=300, help="jobs created (300)")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(handler=run_demo)

    return parser


# -- commands ---------------------------------------------------------------------------------


def make_client(args: argparse.Namespace) -> ClassifyClient:
    options: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("base_url", "project_id", "organization_id", "timeout", "max_retries")
        if hasattr(args, name)
    }
    api_key = getattr(args, "api_key", None) or os.environ.get("LLAMA_CLOUD_API_KEY")
    if not api_key:
        raise UsageError(
            f"no API key: pass --api-key or set LLAMA_CLOUD_API_KEY (`{PROG} demo` needs none)"
        )
    try:
        return ClassifyClient(api_key, **options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def output_writer(args: argparse.Namespace) -> JobWriter:
    """The writer the output options ask for, on stdout."""
    return make_writer(args.format, sys.stdout, args.fields, csv_formulas=args.csv_formulas)


async def run_list(args: argparse.Namespace) -> int:
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


def read_ids(arguments: Sequence[str], stdin: Iterable[str], what: str = "job ids") -> list[str]:
    """Ids from the arguments, ``-`` standing for one id per line of stdin (blank lines skipped);
    duplicates are dropped, the first order kept. An empty stdin is no ids, so nothing to do (a
    pipeline whose first command found nothing succeeds); no ids and no ``-`` is a usage error."""
    ids: list[str] = []
    for argument in arguments:
        if argument == "-":
            ids.extend(_stdin_ids(stdin))
        elif argument:
            ids.append(argument)
    if not ids and "-" not in arguments:
        raise UsageError(f"no {what} given")
    return list(dict.fromkeys(ids))


def _stdin_ids(stdin: Iterable[str]) -> list[str]:
    """One id per non-blank line. Bytes that are not UTF-8 are a usage error, whether the
    stream refuses them or (the POSIX locale's ``surrogateescape``) lets them through."""
    ids: list[str] = []
    number = 1
    try:
        for line in stdin:
            if line.strip():
                ids.append(line.strip())
                line.encode("utf-8")
            number += 1
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise UsageError(
            f"stdin is not UTF-8 text (line {number}); give one job id per line"
        ) from None
    return ids


async def run_get(args: argparse.Namespace) -> int:
    ids = read_ids(args.ids, sys.stdin)
    async with make_client(args) as client:
        jobs = await client.get_jobs(ids, concurrency=args.concurrency)
    writer = output_writer(args)
    for job in jobs.values():
        writer.write(job)
    writer.finish()
    missing = [job_id for job_id in ids if job_id not in jobs]
    for job_id in missing:
        print(f"{PROG}: not found: {job_id}", file=sys.stderr)
    return ExitCode.FAILED if missing else ExitCode.OK


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


async def run_create(args: argparse.Namespace) -> int:
    file_inputs = read_ids(args.file_inputs, sys.stdin, what="file ids")
    try:
        configuration, configuration_id = configuration_from(
            args.rules, args.rules_file, args.configuration_id
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    async with make_client(args) as client:

        async def create(file_input: str) -> ClassifyJob:
            return await client.create_job(file_input, configuration, configuration_id)

        writer = output_writer(args)
        try:  # each job printed as soon as it exists; an error still ends well-formed output
            async with contextlib.aclosing(
                created_in_order(create, file_inputs, args.concurrency)
            ) as jobs:
                async for job in jobs:
                    writer.write(job)
                    sys.stdout.flush()
        finally:
            writer.finish()
    return ExitCode.OK


async def run_fake_server(args: argparse.Namespace) -> int:
    from ..testing._standalone import serve

    await serve(args)
    return ExitCode.OK


async def run_demo(args: argparse.Namespace) -> int:
    from ._demo import run

    await run(jobs=args.jobs, new_jobs=args.new_jobs, seed=args.seed)
    return ExitCode.OK


# -- entry point ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Parse, run one command in one event loop, and turn every failure into an exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    debug = bool(getattr(args, "debug", False))
    if debug:
        logging.basicConfig(
            level=logging.DEBUG, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
        )
    handler: Handler = args.handler
    # Retries and throttling as they happen; with --debug the request log already shows them.
    notices = contextlib.nullcontext() if debug else notices_on(sys.stderr, PROG)
    try:
        if getattr(args, "fields", None) and args.format not in ("table", "csv"):
            raise UsageError("--fields applies to the table and csv formats")
        with notices:
            return asyncio.run(handler(args))
    except KeyboardInterrupt:
        # asyncio.run cancelled the command first, so every ``async with`` has closed.
        print(f"{PROG}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except UsageError as exc:
        return _fail(ExitCode.USAGE, exc, debug)
    except ClassifyError as exc:
        return _fail(ExitCode.FAILED, exc, debug)
    except ValueError as exc:  # an argument the library refused (bytes that are not UTF-8...)
        return _fail(ExitCode.USAGE, exc, debug)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and let Python's own flush at exit
        # write to /dev/null instead of raising a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitCode.CLOSED_OUTPUT
    except OSError as exc:  # e.g. the fake server's port is taken
        return _fail(ExitCode.FAILED, exc, debug)


def _fail(code: ExitCode, exc: BaseException, debug: bool) -> ExitCode:
    if debug:
        traceback.print_exception(exc)
    # One line, whatever the text: a ClassifyError's message is already safe; others may hold
    # a server's or a file's text too.
    print(f"{PROG}: error: {message(str(exc))}", file=sys.stderr)
    return code
