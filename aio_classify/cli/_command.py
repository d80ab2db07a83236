"""How a subcommand joins ``aio-classify``: each command module describes itself in one
``Command`` record (its name, its help line, its own options and its handler), and
``build_parser`` adds the records in order. A new subcommand is a new module and one entry in
``cli._COMMANDS``; nothing else is edited."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from typing import Any

import attrs

__all__ = ["Command", "Handler"]

#: Runs a parsed command line; returns the exit code.
Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


@attrs.frozen
class Command:
    """One subcommand: ``add_arguments`` adds its own options to its parser, ``run`` runs it.
    ``talks_to_api`` gives it the connection and output options every API command takes."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Handler
    talks_to_api: bool = True
