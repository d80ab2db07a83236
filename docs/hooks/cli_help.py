"""MkDocs hook: the CLI page shows ``aio-classify --help`` and each command's ``--help``, taken
from the parser when the site is built, so the page can never drift from the program."""

from __future__ import annotations

import argparse
import os
from typing import Any

from aio_classify.cli import build_parser

MARKER = "<!-- aio-classify --help -->"
WIDTH = "88"  # argparse wraps to $COLUMNS; a fixed width keeps the page stable


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, help_pages())


def help_pages() -> str:
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parser = build_parser()
        sections = [("aio-classify", parser)]
        for action in parser._actions:  # argparse has no public accessor for subcommands
            if isinstance(action, argparse._SubParsersAction):
                sections += [(f"aio-classify {name}", sub) for name, sub in action.choices.items()]
        return "\n\n".join(help_section(title, sub) for title, sub in sections)
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def help_section(title: str, parser: argparse.ArgumentParser) -> str:
    return f"### `{title}`\n\n```text\n{parser.format_help().rstrip()}\n```"
