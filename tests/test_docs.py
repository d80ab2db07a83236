"""The docs site's code is true to the code: every Python block compiles; every complete program
runs against a fake server and prints what the page shows after it (a ```text block, ``...``
standing for any text); the FastAPI and pytest examples are served and run; every
``aio-classify`` command line parses; every page is in the site's navigation.

``mkdocs build --strict`` (the ``docs`` nox session) checks the rest: links, anchors,
cross-references to the API, included files.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aio_classify.cli import build_parser
from aio_classify.testing import FakeClassifyServer, Lifecycle

from helpers import (
    API_KEY,
    BLOCK,
    ROOT,
    asgi_client,
    assert_program_prints,
    child_env,
    cli_commands,
    namespace_of,
    run_python,
    use_child_env,
)

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
INCLUDE = "--8<--"  # a pymdownx snippet: the included file is tested where it lives


def blocks(language: str) -> list[tuple[Path, str, str | None]]:
    """(page, code, expected output or None) for each block in ``language``."""
    return [
        (page, match[2], match[3])
        for page in PAGES
        for match in BLOCK.finditer(page.read_text(encoding="utf-8"))
        if match[1] == language and INCLUDE not in match[2]
    ]


PYTHON = blocks("python")
PROGRAMS = [
    (page, code, out)
    for page, code, out in PYTHON
    if "asyncio.run(" in code or ("aio_classify.sync" in code and "__main__" in code)
]


def block_id(page: Path, code: str) -> str:
    return f"{page.relative_to(DOCS)}:{code.strip().splitlines()[-1][:30]}"


@pytest.fixture
async def docs_server() -> AsyncIterator[FakeClassifyServer]:
    lifecycle = Lifecycle(running_after=0.1, finish_after=0.4)
    async with FakeClassifyServer(api_key=API_KEY, jobs=500, lifecycle=lifecycle) as server:
        yield server


@pytest.mark.parametrize(
    ("page", "code"), [(p, c) for p, c, _ in PYTHON], ids=[block_id(p, c) for p, c, _ in PYTHON]
)
def test_every_python_block_compiles(page: Path, code: str) -> None:
    # A fragment may ``await`` at top level, as in an asyncio REPL; the rest must be Python.
    compile(code, str(page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_the_programs_show_their_output() -> None:
    assert len(PROGRAMS) >= 6
    assert all(expected is not None for _, _, expected in PROGRAMS)


@pytest.mark.parametrize(
    ("code", "expected"),
    [(c, o) for _, c, o in PROGRAMS],
    ids=[block_id(p, c) for p, c, _ in PROGRAMS],
)
async def test_program(
    docs_server: FakeClassifyServer, tmp_path: Path, code: str, expected: str
) -> None:
    await assert_program_prints(code, expected, docs_server, tmp_path)


def only(marker: str) -> str:
    (code,) = [code for _, code, _ in PYTHON if marker in code]
    return code


async def test_the_fastapi_example_maps_errors_to_404_and_503(
    docs_server: FakeClassifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_child_env(monkeypatch, docs_server)
    app = namespace_of(only("FastAPI("))["app"]
    job_id = docs_server.job_ids[0]
    async with asgi_client(app) as http:
        found = await http.get(f"/jobs/{job_id}")
        missing = await http.get("/jobs/cls-no-such-job")
        docs_server.fail_next(429, count=6, headers={"Retry-After": "0"})  # retries spent
        busy = await http.get(f"/jobs/{job_id}")
    client = app.state.classify
    assert found.status_code == 200
    assert found.json()["status"] == docs_server.job(job_id)["status"]  # type: ignore[index]
    assert missing.status_code == 404
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "0"
    assert client.closed


async def test_the_pytest_examples_pass(tmp_path: Path) -> None:
    (tmp_path / "test_example.py").write_text(only("def test_"), encoding="utf-8")
    env = child_env()
    # The plugin under its module name, whether or not its entry point is installed.
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"]
    args += ["-p", "no:aio_classify", "-p", "aio_classify.pytest_plugin"]
    args += ["-o", "asyncio_default_fixture_loop_scope=function"]
    status, output = await run_python(args, env, tmp_path)
    assert status == 0, output
    assert "3 passed" in output


def test_every_command_line_parses() -> None:
    parser = build_parser()
    commands = cli_commands(code for _, code, _ in blocks("console"))
    assert len(commands) >= 8
    for command in commands:
        assert parser.parse_args(shlex.split(command)[1:]).handler is not None


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in PAGES:
        if "hooks" not in page.parts:
            assert f": {page.relative_to(DOCS).as_posix()}\n" in nav, page


def test_every_include_names_a_file_that_exists() -> None:
    """A snippet line a formatter has mangled (``--8 < --"x"``) still compiles as Python and
    builds as text, so only this catches it."""
    for page in PAGES:
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.replace(" ", "").startswith("--8<--"):
                assert re.fullmatch(r'--8<-- "([^"]+)"', line), f"{page}: {line}"
                assert (ROOT / line.split('"')[1]).is_file(), f"{page}: {line}"
