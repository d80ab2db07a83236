"""Every example in README.md runs, against the fake server, and prints what the README shows.

Script examples run in a child process with ``LLAMA_CLOUD_*`` pointing at a fresh fake (500 jobs,
created jobs finishing within half a second); a ```text block right after one is its expected
output, ``...`` standing for any text. The web application examples are served and called; the
pytest example runs under pytest; every ``aio-classify`` command line must parse.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from aio_classify.cli import build_parser
from aio_classify.testing import FakeClassifyServer, Lifecycle

from helpers import API_KEY, ROOT, child_env

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```\n(?:\n```text\n(.*?)^```\n)?", re.M | re.S)


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


@pytest.fixture
async def readme_server() -> Iterator[FakeClassifyServer]:
    lifecycle = Lifecycle(running_after=0.1, finish_after=0.4)
    async with FakeClassifyServer(api_key=API_KEY, jobs=500, lifecycle=lifecycle) as server:
        yield server  # type: ignore[misc]


async def run_python(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Any warning (an unclosed session, say) fails the example."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-W",
        "error",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode is not None
    return child.returncode, output.decode()


def assert_output_matches(actual: str, expected: str) -> None:
    actual_lines, expected_lines = actual.splitlines(), expected.splitlines()
    assert len(actual_lines) == len(expected_lines), actual
    for got, want in zip(actual_lines, expected_lines, strict=True):
        pattern = ".*".join(re.escape(part) for part in want.split("..."))
        assert re.fullmatch(pattern, got), f"{got!r} does not match {want!r}"


@pytest.mark.parametrize(("code", "expected"), SCRIPTS, ids=[example_id(c) for c, _ in SCRIPTS])
async def test_script_example(
    readme_server: FakeClassifyServer, tmp_path: Path, code: str, expected: str
) -> None:
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    code_, output = await run_python([str(script)], child_env(readme_server), tmp_path)
    assert code_ == 0, output
    assert_output_matches(output, expected)


def namespace_of(code: str) -> dict[str, Any]:
    """Run an example as an imported module would (``__name__`` is not ``"__main__"``)."""
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace


def only(kind_name: str) -> str:
    (code,) = [code for code, _ in blocks("python") if kind(code) == kind_name]
    return code


async def test_aiohttp_example(
    readme_server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in child_env(readme_server).items():
        monkeypatch.setenv(name, value)
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
    for name, value in child_env(readme_server).items():
        monkeypatch.setenv(name, value)
    app = namespace_of(only("fastapi"))["app"]
    job_id = readme_server.job_ids[0]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            response = await http.get(f"/jobs/{job_id}")
        client = app.state.classify
    assert response.status_code == 200
    assert response.json() == {"id": job_id, "status": readme_server.job(job_id)["status"]}  # type: ignore[index]
    assert client.closed


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
    commands = [
        part.split(">", 1)[0].strip()  # without a redirection
        for code, _ in blocks("console")
        for line in code.splitlines()
        for part in line.split("#", 1)[0].split("|")
        if part.strip().startswith("aio-classify ")
    ]
    assert len(commands) >= 6
    for command in commands:
        args = parser.parse_args(shlex.split(command)[1:])
        assert args.handler is not None
