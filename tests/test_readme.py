"""Every example in README.md runs, against the fake server, and prints what the README shows.

Script examples run in a child process with ``LLAMA_CLOUD_*`` pointing at a fresh fake started
as the README's own walkthrough starts it (``aio-classify fake-server ... --finish-after 5``);
a ```text block right after one is its expected output, ``...`` standing for any text. The web
application examples are served and called; the pytest example runs under pytest; every
``aio-classify`` command line must parse.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from aio_classify.cli import build_parser
from aio_classify.testing import FakeClassifyServer
from aio_classify.testing._standalone import serving

from helpers import (
    BLOCK,
    ROOT,
    asgi_client,
    assert_output_matches,
    assert_program_prints,
    bash,
    child_env,
    cli_commands,
    namespace_of,
    run_python,
    use_child_env,
)

README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[tuple[str, str | None]]:
    """(code, expected output or None) for each block in ``language``, in README order."""
    return [(m[2], m[3]) for m in BLOCK.finditer(README) if m[1] == language]


def kind(code: str) -> str:
    if "FastAPI(" in code:
        return "fastapi"
    if "web.Application(" in code:
        return "aiohttp"
    if "def test_" in code:
        return "pytest"
    return "script"


SCRIPTS = [(code, out) for code, out in blocks("python") if kind(code) == "script"]


def example_id(code: str) -> str:
    main = code.split("async def main", 1)[-1]
    return re.sub(r"\W+", "-", main.split("\n", 3)[2].strip())[:40]


def test_the_readme_has_the_examples_it_promises() -> None:
    kinds = [kind(code) for code, _ in blocks("python")]
    assert kinds.count("script") >= 6
    assert {"fastapi", "aiohttp", "pytest"} <= set(kinds)
    assert all(out is not None for _, out in SCRIPTS)


WALKTHROUGH_MARKER = "aio-classify create dfl-invoice-1.pdf"


@pytest.fixture
async def readme_server() -> Iterator[FakeClassifyServer]:
    """The fake the walkthrough's first terminal starts, on a free port."""
    server_command, _ = shell_session(WALKTHROUGH_MARKER)
    args = build_parser().parse_args([*shlex.split(server_command)[1:], "--port", "0"])
    async with serving(args) as server:
        yield server  # type: ignore[misc]


@pytest.mark.parametrize(("code", "expected"), SCRIPTS, ids=[example_id(c) for c, _ in SCRIPTS])
async def test_script_example(
    readme_server: FakeClassifyServer, tmp_path: Path, code: str, expected: str
) -> None:
    await assert_program_prints(code, expected, readme_server, tmp_path)


def only(kind_name: str) -> str:
    (code,) = [code for code, _ in blocks("python") if kind(code) == kind_name]
    return code


async def test_aiohttp_example(
    readme_server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_child_env(monkeypatch, readme_server)
    app = namespace_of(only("aiohttp"))["create_app"]()
    wanted = readme_server.job_ids[:3]
    async with TestClient(TestServer(app)) as http:
        response = await http.get("/jobs/status", params=[("id", job_id) for job_id in wanted])
        assert response.status == 200
        statuses = await response.json()
    assert list(statuses) == wanted
    assert statuses[wanted[0]] == readme_server.job(wanted[0])["status"]  # type: ignore[index]


async def test_fastapi_example(
    readme_server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_child_env(monkeypatch, readme_server)
    app = namespace_of(only("fastapi"))["app"]
    job_id = readme_server.job_ids[0]
    async with asgi_client(app) as http:
        response = await http.get(f"/jobs/{job_id}")
        unknown = await http.get("/jobs/cls-no-such-job")
    client = app.state.classify
    assert response.status_code == 200
    assert response.json() == {"id": job_id, "status": readme_server.job(job_id)["status"]}  # type: ignore[index]
    assert unknown.status_code == 404  # not a 500 with a NotFoundError traceback
    assert unknown.json() == {"detail": "no such job"}
    assert client.closed


def test_examples_needing_more_than_the_package_say_how_to_install_it() -> None:
    for code, _ in blocks("python"):
        needs = {"fastapi": "fastapi uvicorn", "pytest": "pytest pytest-asyncio"}.get(kind(code))
        if needs is not None:  # said in the paragraph that introduces the example
            before = README[: README.index(code)].rsplit("```", 1)[0][-300:]
            assert f"python3 -m pip install {needs}" in " ".join(before.split()), kind(code)


async def test_pytest_example(tmp_path: Path) -> None:
    (tmp_path / "test_example.py").write_text(only("pytest"), encoding="utf-8")
    env = child_env()
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"]
    args += ["-o", "asyncio_default_fixture_loop_scope=function"]
    code, output = await run_python(args, env, tmp_path)
    assert code == 0, output
    assert "1 passed" in output


def test_every_command_line_in_the_readme_parses() -> None:
    parser = build_parser()
    commands = cli_commands(code for code, _ in blocks("console"))
    assert len(commands) >= 6
    for command in commands:
        args = parser.parse_args(shlex.split(command)[1:])
        assert args.handler is not None


# -- shell sessions: a fake server in one terminal, commands in another ----------------------

FAKE_SERVER_LINE = re.compile(r"^aio-classify fake-server [^\n#]*", re.M)


def shell_session(marker: str) -> tuple[str, str]:
    """The ``aio-classify fake-server`` command of the console block before the one holding
    ``marker`` (the first terminal), and that block (the second terminal)."""
    consoles = [code for code, _ in blocks("console")]
    (index,) = [i for i, code in enumerate(consoles) if marker in code]
    found = FAKE_SERVER_LINE.search(consoles[index - 1])
    assert found is not None, consoles[index - 1]
    return found[0], consoles[index]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_shell_session(server_command: str, script: str, tmp_path: Path) -> str:
    """Start the fake as written (on a free port instead of 8787), run ``script`` in bash with
    ``aio-classify`` on the PATH, stop the fake with Ctrl-C; return the script's stdout."""
    port = str(free_port())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "aio-classify"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m aio_classify "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = child_env()
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    argv = shlex.split(server_command.replace("8787", port))
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path) as fake:
        try:
            assert fake.stdout is not None
            assert fake.stdout.readline().strip() == f"http://127.0.0.1:{port}"
            done = bash(script.replace("8787", port), env, tmp_path)
        finally:
            fake.send_signal(signal.SIGINT)
            fake.wait(timeout=10)
    assert done.returncode == 0, done.stderr
    assert fake.returncode == 0
    return done.stdout


def json_values(text: str) -> list[Any]:
    """The JSON values printed one after another (curl -s adds no newline)."""
    decoder, values, end = json.JSONDecoder(), [], len(text.rstrip())
    position = 0
    while position < end:
        value, position = decoder.raw_decode(text, position)
        values.append(value)
        position = len(text) - len(text[position:].lstrip())
    return values


def test_the_fake_server_admin_session_runs_as_written(tmp_path: Path) -> None:
    server_command, script = shell_session("$FAKE/fail-next")
    started = time.time()
    faults, due, latency, log = json_values(run_shell_session(server_command, script, tmp_path))
    assert faults == {
        "pending": [{"kind": "status", "status": 429, "method": None, "path": None}] * 2
    }
    assert due["due"]
    assert all(started < moment < time.time() + 5 for moment in due["due"].values())
    assert latency == {"seconds": 0.05}
    assert log == {"total": 0, "offset": 0, "requests": []}


def test_the_command_line_walkthrough_runs_as_written(tmp_path: Path) -> None:
    server_command, script = shell_session(WALKTHROUGH_MARKER)
    assert "--finish-after" in server_command
    output = run_shell_session(server_command, script, tmp_path).replace("\r\n", "\n")
    # What it prints is what the README shows after it.
    (expected,) = [out for code, out in blocks("console") if WALKTHROUGH_MARKER in code]
    assert expected is not None
    assert_output_matches(output, expected)
    # The last command's CSV: both new jobs waited for until they finished, and classified.
    last = output[output.rindex("id,status,type\n") :].splitlines()
    rows = [row.split(",") for row in last[1:]]
    new_ids = (tmp_path / "new.txt").read_text().splitlines()
    assert sorted(job_id for job_id, _, _ in rows) == sorted(new_ids)
    assert {(status, kind) for _, status, kind in rows} == {
        ("COMPLETED", "invoice"),
        ("COMPLETED", ""),
    }


# -- benchmark figures: one source, the last `nox -s bench` report ------------------------------

NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?=x?(?!\w))")  # 1.13x counts as 1.13


def numbers(text: str) -> set[str]:
    return {found.replace(",", "") for found in NUMBER.findall(text)}


def test_the_readmes_benchmark_figures_are_those_of_the_last_report() -> None:
    """Every figure the README quotes of a benchmark is in docs/benchmarks.md, which
    ``nox -s bench`` writes: after a new run, a stale README fails here."""
    report = numbers((ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8"))
    summary = README[README.index("`python3 -m nox -s bench` measures") :]
    summary = summary[: summary.index("The official SDK's tasks each retry")]
    webhooks = README[README.index("Measured on 5,000 jobs") :]
    webhooks = webhooks[: webhooks.index("with few jobs")]
    quoted = numbers(summary) | numbers(webhooks)
    assert len(quoted) >= 20
    assert quoted - report == set()
