"""What ``aio-classify`` exits with, and how every failure becomes one line on stderr and its exit
code: the one place that maps an exception to an ``ExitCode``, so no command decides it alone."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from enum import IntEnum

from .._core.errors import ClassifyError
from .._core.sanitize import message

__all__ = ["PROG", "ExitCode", "UsageError", "exit_code_of"]

PROG = "aio-classify"


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


def exit_code_of(command: Callable[[], int], debug: bool, usage_prog: str = PROG) -> int:
    """Run ``command`` and return its exit code, or the code of the failure that ended it (told
    on stderr in one line; ``debug`` adds the traceback). A usage error is told under
    ``usage_prog`` (``aio-classify list``), as argparse tells its own."""
    try:
        return command()
    except KeyboardInterrupt:
        # asyncio.run cancelled the command first, so every ``async with`` has closed.
        print(f"{PROG}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except UsageError as exc:
        return _fail(ExitCode.USAGE, exc, debug, usage_prog)
    except ClassifyError as exc:
        return _fail(ExitCode.FAILED, exc, debug)
    except ValueError as exc:  # an argument the library refused (bytes that are not UTF-8...)
        return _fail(ExitCode.USAGE, exc, debug, usage_prog)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and let Python's own flush at exit
        # write to /dev/null instead of raising a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitCode.CLOSED_OUTPUT
    except OSError as exc:  # e.g. the fake server's port is taken
        return _fail(ExitCode.FAILED, exc, debug)


def _fail(code: ExitCode, exc: BaseException, debug: bool, prog: str = PROG) -> ExitCode:
    if debug:
        traceback.print_exception(exc)
    # One line, whatever the text: a ClassifyError's message is already safe; others may hold
    # a server's or a file's text too.
    print(f"{prog}: error: {message(str(exc))}", file=sys.stderr)
    return code
