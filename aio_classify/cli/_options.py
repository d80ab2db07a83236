"""What the API commands share: the parser whose errors are one line, argument types that check
input as the library does, the connection and output options, the client and the writer made
from them, and job ids read from the arguments or stdin."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn, TypeVar

from .._client import ClassifyClient
from .._validation import check_int, check_seconds
from ._exit import PROG, ExitCode, UsageError
from ._output import FIELDS, FORMATS, TABLE_FIELDS, JobWriter, make_writer

__all__ = [
    "CliParser",
    "add_id_arguments",
    "check_output_options",
    "checked",
    "connection_options",
    "make_client",
    "output_options",
    "output_writer",
    "positive_int",
    "read_ids",
    "seconds",
]

_T = TypeVar("_T")


class CliParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (not the whole usage block) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# -- argument types: each turns bad input into argparse's own one-line error ------------------


def checked(
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


positive_int = checked(int, lambda value: check_int(value, "it", low=1), "a whole number")
_non_negative_int = checked(int, lambda value: check_int(value, "it", low=0), "a whole number")
seconds = checked(float, lambda value: check_seconds(value, "it"), "a number")


# -- option groups ----------------------------------------------------------------------------


def connection_options() -> CliParser:
    """Options shared by every command that talks to the API.

    They are accepted before or after the command name; ``SUPPRESS`` keeps a value given before
    it from being reset by the subcommand's defaults.
    """
    options = CliParser(add_help=False)
    group = options.add_argument_group("connection (also read from the environment)")
    quiet = argparse.SUPPRESS
    group.add_argument("--base-url", default=quiet, help="default: $LLAMA_CLOUD_BASE_URL")
    group.add_argument("--api-key", default=quiet, help="default: $LLAMA_CLOUD_API_KEY")
    group.add_argument("--project-id", default=quiet)
    group.add_argument("--organization-id", default=quiet)
    group.add_argument("--timeout", type=seconds, default=quiet, help="seconds per attempt (60)")
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


def output_options() -> CliParser:
    """How the jobs a command prints are written: format, columns, CSV formulas."""
    options = CliParser(add_help=False)
    options.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (fits the terminal; ids are never cut), json, jsonl, csv, or ids (one a "
        "line, for | get - or | wait -); jsonl, csv and ids stream",
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


def check_output_options(args: argparse.Namespace) -> None:
    """Refuse output options that do not go together, before any request is made."""
    if getattr(args, "fields", None) and args.format not in ("table", "csv"):
        raise UsageError("--fields applies to the table and csv formats")


def add_id_arguments(parser: argparse.ArgumentParser) -> None:
    """Job ids (``-`` for stdin, see ``read_ids``) and how many requests go out at once."""
    parser.add_argument("ids", nargs="+", metavar="ID", help="job ids; - reads them from stdin")
    parser.add_argument(
        "--concurrency", type=positive_int, default=8, help="requests in flight (8)"
    )


# -- what the options make --------------------------------------------------------------------


def make_client(args: argparse.Namespace) -> ClassifyClient:
    """The client the connection options (and the environment) describe."""
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


def output_writer(args: argparse.Namespace, *, header_when_empty: bool = True) -> JobWriter:
    """The writer the output options ask for, on stdout; what a table leaves out is said on
    stderr. ``header_when_empty=False``: a table with no job prints nothing."""
    return make_writer(
        args.format,
        sys.stdout,
        args.fields,
        csv_formulas=args.csv_formulas,
        notice=lambda text: print(f"{PROG}: {text}", file=sys.stderr),
        header_when_empty=header_when_empty,
    )


def read_ids(arguments: Sequence[str], stdin: Iterable[str], what: str = "job ids") -> list[str]:
    """Ids from the arguments, ``-`` standing for one id per line of stdin (blank lines and a
    first line ``id``, a CSV's header, skipped). Surrounding whitespace is dropped, CR included,
    so ids cut from CSV (whose lines end in CRLF) work. Duplicates are dropped, the first order
    kept. An empty stdin is no ids, so nothing to do (a pipeline whose first command found
    nothing succeeds); no ids and no ``-`` is a usage error."""
    ids: list[str] = []
    for argument in arguments:
        if argument == "-":
            ids.extend(_stdin_ids(stdin))
        elif argument.strip():
            ids.append(argument.strip())
    if not ids and "-" not in arguments:
        raise UsageError(f"no {what} given")
    return list(dict.fromkeys(ids))


#: A first line of stdin that names the column instead of holding an id (``--format csv
#: --fields id``): skipped.
ID_HEADER = "id"


def _stdin_ids(stdin: Iterable[str]) -> list[str]:
    """One id per non-blank line, stripped; a first line ``id`` is a header. Bytes that are not
    UTF-8 are a usage error, whether the stream refuses them or (the POSIX locale's
    ``surrogateescape``) lets them through."""
    ids: list[str] = []
    number = 1
    header_possible = True
    try:
        for line in stdin:
            text = line.strip()
            if text and not (header_possible and text == ID_HEADER):
                text.encode("utf-8")
                ids.append(text)
            header_possible = header_possible and not text
            number += 1
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise UsageError(
            f"stdin is not UTF-8 text (line {number}); give one job id per line"
        ) from None
    return ids
