"""``aio-classify fake-server``: the fake Classify API served on this machine until Ctrl-C.

The fake is imported when the command runs, not when the parser is built, so the other
commands never load it; its options come from ``_fake_server_options``, which imports only
argparse."""

from __future__ import annotations

import argparse

from .._fake_server_options import add_fake_server_arguments
from ._command import Command
from ._exit import ExitCode

__all__ = ["COMMAND"]


async def run_fake_server(args: argparse.Namespace) -> int:
    from ..testing._standalone import serve

    await serve(args)
    return ExitCode.OK


COMMAND = Command(
    "fake-server",
    "serve a fake Classify API on this machine (Ctrl-C stops it)",
    add_fake_server_arguments,
    run_fake_server,
    talks_to_api=False,
)
