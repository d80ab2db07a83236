"""The fake server's command-line options, in a module of their own.

Both ``python -m aio_classify.testing`` and ``aio-classify fake-server`` take them. They live
outside ``aio_classify.testing`` so that building the ``aio-classify`` parser (every
``aio-classify list``) does not import the fake server, and outside ``aio_classify.cli`` so that
the fake server does not import the command line: this module imports only ``argparse``.
"""

from __future__ import annotations

import argparse

__all__ = ["INPUT_FIELD_SPELLINGS", "add_fake_server_arguments", "port_number"]

#: ``FakeClassifyServer(input_fields=...)``'s choices (``testing.server.INPUT_FIELDS``).
INPUT_FIELD_SPELLINGS = ("file_input", "document_input_value", "both")


def port_number(text: str) -> int:
    """A TCP port, 0 to 65535 (argparse turns the error into a one-line usage error)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {port}")
    return port


def add_fake_server_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the fake server's options to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port_number, default=8787, help="0 picks a free port")
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--jobs", type=int, default=0, help="seed this many jobs")
    parser.add_argument("--seed", type=int, default=0, help="random seed for seeded jobs")
    parser.add_argument("--project-id", help="a UUID (default: the fake's own default project)")
    parser.add_argument(
        "--input-fields",
        choices=INPUT_FIELD_SPELLINGS,
        default="file_input",
        help="spelling of the input field in served jobs (default: the live service's)",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument(
        "--finish-after",
        type=float,
        default=None,
        help="jobs created by POST finish this many seconds later (RUNNING halfway), and the "
        "seeded PENDING and RUNNING jobs within as many seconds of the first API request; "
        "without it no job moves unless told to (see /_fake/ in the README)",
    )
    parser.add_argument("--fail-ratio", type=float, default=0.0, help="share of those that FAIL")
