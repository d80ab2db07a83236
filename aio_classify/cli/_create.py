"""``aio-classify create``: one job per file id, with rules typed on the command line
(``--rule TYPE=DESCRIPTION``, repeated) or read from a JSON file, or a saved configuration.

Everything the user typed is checked before the first request (the rules as the service checks
them), so a typo costs no job. Jobs are created a few at a time and handed out in the order of
their inputs, each as soon as it and those before it exist; on an error the jobs already created
have been handed out first, so none is lost track of.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from .._core.errors import ClassifyError
from .._core.models import ClassifyConfiguration, ClassifyJob, ClassifyRule
from .._validation import check_configuration
from ._command import Command
from ._exit import ExitCode, UsageError
from ._options import make_client, output_writer, positive_int, read_ids

__all__ = [
    "COMMAND",
    "RULES_FILE_HELP",
    "configuration_from",
    "created_in_order",
    "rule_option",
]

RULES_FILE_HELP = (
    'a JSON file: a list of {"type": ..., "description": ...} rules, or a whole configuration '
    '({"rules": [...], "mode": ..., "parsing_configuration": ...})'
)


def rule_option(text: str) -> ClassifyRule:
    """``--rule TYPE=DESCRIPTION`` (argparse type): split at the first ``=``."""
    kind, equals, description = text.partition("=")
    if not equals or not kind.strip():
        raise argparse.ArgumentTypeError(
            f"expected TYPE=DESCRIPTION, e.g. 'invoice=Has an invoice number'; got {text!r}"
        )
    return ClassifyRule(type=kind.strip(), description=description.strip())


def configuration_from(
    rules: list[ClassifyRule] | None, rules_file: str | None, configuration_id: str | None
) -> tuple[ClassifyConfiguration | None, str | None]:
    """The configuration (or saved configuration's id) from exactly one of the three options,
    checked as ``create_job`` checks it; ``ValueError`` with a message for the user otherwise."""
    given = [bool(rules), rules_file is not None, configuration_id is not None]
    if sum(given) != 1:
        raise ValueError(
            "give the rules: --rule TYPE=DESCRIPTION, --rules-file or --configuration-id"
        )
    configuration: ClassifyConfiguration | dict[str, Any] | None = None
    if rules:
        configuration = ClassifyConfiguration(rules=rules)
    elif rules_file is not None:
        configuration = _read_rules_file(rules_file)
    try:
        return check_configuration(configuration, configuration_id)
    except (TypeError, ValueError, ClassifyError) as exc:
        raise ValueError(str(exc)) from None
    except RecursionError:
        raise ValueError("the configuration nests too deep to be one") from None


def _read_rules_file(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read the rules file: {exc.strerror}: {path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the rules file is not JSON: {exc}") from None
    except RecursionError:  # deeper than Python's parser goes: no rules file nests like that
        raise ValueError("the rules file nests too deep to be a configuration") from None
    if isinstance(data, list):
        return {"rules": data}
    if isinstance(data, dict) and "rules" in data:
        return data
    raise ValueError(f"the rules file must hold {RULES_FILE_HELP}")


async def created_in_order(
    create: Callable[[str], Awaitable[ClassifyJob]], file_inputs: Iterable[str], concurrency: int
) -> AsyncGenerator[ClassifyJob, None]:
    """``create(file_input)`` for each input, at most ``concurrency`` at once, yielded in input
    order. After a failure no creation starts; those in flight finish and their jobs are still
    yielded, then the first error is raised. A consumer that stops early cancels the rest."""
    inputs = iter(file_inputs)
    running: collections.deque[asyncio.Task[ClassifyJob]] = collections.deque()
    error: Exception | None = None
    try:
        while True:
            while error is None and len(running) < concurrency:
                file_input = next(inputs, None)
                if file_input is None:
                    break
                running.append(asyncio.ensure_future(create(file_input)))
            if not running:
                break
            try:
                job = await running.popleft()
            except Exception as exc:
                error = error or exc
                continue
            yield job
        if error is not None:
            raise error
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def add_arguments(creating: argparse.ArgumentParser) -> None:
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
        "--concurrency", type=positive_int, default=8, help="creations in flight (8)"
    )


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


COMMAND = Command(
    "create", "start one job per file id, and print the new jobs", add_arguments, run_create
)
