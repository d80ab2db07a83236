"""``aio-classify``: list, look up, create and wait for classify jobs from a shell; run the fake
server or the demo.

Each subcommand lives in a module of its own and describes itself in one ``Command`` record
(``_command``); this module assembles them in ``_COMMANDS`` order and runs the one asked for.
Exit codes are ``ExitCode`` (listed in ``aio-classify --help``). Errors are one line on stderr;
``--debug`` adds the traceback and request logs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

from .. import __version__
from . import _create, _demo, _fake_server, _get, _list, _wait
from ._command import Command, Handler
from ._exit import PROG, ExitCode, exit_code_of
from ._notices import notices_on
from ._options import CliParser, check_output_options, connection_options, output_options

__all__ = ["ExitCode", "build_parser", "main"]

#: The subcommands, in the order ``--help`` lists them.
_COMMANDS: tuple[Command, ...] = (
    _list.COMMAND,
    _get.COMMAND,
    _wait.COMMAND,
    _create.COMMAND,
    _fake_server.COMMAND,
    _demo.COMMAND,
)


def _epilog() -> str:
    codes = "\n".join(f"  {code.value:>3}  {code.meaning}" for code in ExitCode)
    return f"exit codes:\n{codes}\n\nTry it with no key and no network: {PROG} demo"


def build_parser() -> argparse.ArgumentParser:
    """The ``aio-classify`` parser: the connection options, ``--version`` and every command."""
    connection = connection_options()
    api_options = [connection, output_options()]
    parser = CliParser(
        prog=PROG,
        description="List, look up, create and wait for LlamaCloud Classify v2 jobs.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[connection],
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    # Subcommand parsers are ``CliParser`` too (argparse uses the parent's class), so their
    # errors are one line as well.
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        parents = api_options if command.talks_to_api else []
        subparser = subcommands.add_parser(command.name, parents=parents, help=command.help)
        command.add_arguments(subparser)
        subparser.set_defaults(handler=command.run)
    return parser


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

    def run() -> int:
        check_output_options(args)
        with notices:
            return asyncio.run(handler(args))

    return exit_code_of(run, debug, usage_prog=f"{PROG} {args.command}")
