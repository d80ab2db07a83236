"""How ``aio-classify`` is assembled: every ``Command`` record becomes a subcommand, in
``_COMMANDS`` order, and building the parser loads no command's heavy machinery."""

from __future__ import annotations

import subprocess
import sys

from aio_classify.cli import _COMMANDS, build_parser

from helpers import ROOT, child_env


def test_every_command_is_a_subcommand_in_order_with_its_own_handler() -> None:
    parser = build_parser()
    usage = parser.format_help()
    listed = [usage.index(f"\n    {command.name} ") for command in _COMMANDS]
    assert listed == sorted(listed)
    for command in _COMMANDS:
        ids = [] if command.name in ("list", "fake-server", "demo") else ["an-id"]
        args = parser.parse_args([command.name, *ids])
        assert args.handler is command.run
        assert hasattr(args, "format") is command.talks_to_api


def test_building_the_parser_and_parsing_list_leave_the_fake_server_unloaded() -> None:
    probe = (
        "import sys; from aio_classify.cli import build_parser;"
        " build_parser().parse_args(['list']);"
        " print(sorted(name for name in sys.modules if name.startswith("
        "('aio_classify.testing', 'aio_classify.cli._demo_'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
