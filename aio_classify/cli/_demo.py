"""``aio-classify demo``: the options of the demo, and its start. The demo itself
(``_demo_script``) runs the fake server, so it is imported when the command runs, not when the
parser is built."""

from __future__ import annotations

import argparse

from ._command import Command
from ._exit import ExitCode
from ._options import positive_int

__all__ = ["COMMAND"]


def add_arguments(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--jobs", type=positive_int, default=3000, help="jobs seeded (3000)")
    demo.add_argument("--new-jobs", type=positive_int, default=300, help="jobs created (300)")
    demo.add_argument("--seed", type=int, default=0)


async def run_demo(args: argparse.Namespace) -> int:
    from ._demo_script import run

    await run(jobs=args.jobs, new_jobs=args.new_jobs, seed=args.seed)
    return ExitCode.OK


COMMAND = Command(
    "demo",
    "see it work: a fake server, thousands of jobs, no key, no network",
    add_arguments,
    run_demo,
    talks_to_api=False,
)
