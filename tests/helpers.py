"""What several test modules share: the fake's key and paths, sample rules, the environment for
a child process (a CLI run, an example, a README snippet) that must import this checkout, and a
scripted loopback server for hostile-server tests."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from aio_classify import ClassifyClient, ClassifyConfiguration, ClassifyRule, RetryPolicy
from aio_classify._decode.conversion import structure_job
from aio_classify.testing import FakeClassifyServer, RecordedRequest
from aio_classify.testing._app import build_app

ROOT = Path(__file__).resolve().parent.parent
#: The key the ``server`` fixture (conftest.py) accepts.
API_KEY = "test-key"
#: The listing and create route.
LIST = "/api/v2/classify"
#: A base URL for aioresponses-scripted tests; never resolved.
SCRIPTED_BASE = "https://api.example.test"
#: Backoffs of a millisecond for aioresponses-scripted sequences: they need no real waiting.
SCRIPTED_RETRIES = RetryPolicy(initial_backoff=0.001, max_backoff=0.002, jitter=0.0)
#: Retries as the client does them, but with backoffs of milliseconds, so tests stay fast.
FAST_RETRIES = RetryPolicy(initial_backoff=0.01, max_backoff=0.05, jitter=0.0)
#: The signing secret of the ``receiver`` fixture (conftest.py).
WEBHOOK_SECRET = "whsec_test"

RULES = [
    ClassifyRule(type="invoice", description="A bill asking for payment"),
    ClassifyRule(type="receipt", description="Proof that a payment was made"),
]
CONFIG = ClassifyConfiguration(rules=RULES)

#: A job with a long id and a result, for the CLI's table and progress display.
TABLE_JOB = structure_job(
    {
        "id": "cls-" + "a" * 40,
        "status": "COMPLETED",
        "created_at": "2026-01-31T12:00:00Z",
        "configuration": {"rules": [{"type": "invoice", "description": "x" * 12}], "mode": "FAST"},
        "result": {"confidence": 0.8765, "type": "invoice"},
    }
)


def child_env(server: FakeClassifyServer | None = None, **extra: str) -> dict[str, str]:
    """A child process's environment: this checkout importable, no ``LLAMA_CLOUD_*`` setting
    inherited, the fake's URL and key when ``server`` is given, then ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_CLOUD_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if server is not None:
        env["LLAMA_CLOUD_BASE_URL"] = server.url
        env["LLAMA_CLOUD_API_KEY"] = API_KEY
    env.update(extra)
    return env


def use_child_env(
    monkeypatch: pytest.MonkeyPatch, server: FakeClassifyServer | None = None
) -> None:
    """This process's environment set as ``child_env(server)`` would make a child's (undone by
    ``monkeypatch`` after the test), for examples that read ``LLAMA_CLOUD_*`` in process."""
    for name, value in child_env(server).items():
        monkeypatch.setenv(name, value)


@asynccontextmanager
async def asgi_client(app: Any) -> AsyncIterator[Any]:
    """An ``httpx.AsyncClient`` served by the ASGI ``app``, inside the app's lifespan."""
    import httpx  # the README and docs tests' dependency only

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            yield http


def list_calls(server: FakeClassifyServer) -> list[RecordedRequest]:
    """The list requests (``GET /api/v2/classify``) the server saw, in order."""
    return [r for r in server.requests if r.method == "GET" and r.path == LIST]


def posts(server: FakeClassifyServer) -> list[Any]:
    """The create requests (``POST /api/v2/classify``) the server saw, in order."""
    return [r for r in server.requests if r.method == "POST" and r.path == LIST]


def scripted_client(
    *, max_retries: int = 5, retry_policy: RetryPolicy = SCRIPTED_RETRIES
) -> ClassifyClient:
    """A client for aioresponses-scripted tests (``SCRIPTED_BASE``, key ``sk-secret``)."""
    return ClassifyClient(
        "sk-secret", base_url=SCRIPTED_BASE, max_retries=max_retries, retry_policy=retry_policy
    )


# -- a scripted server: exactly the bytes and headers a hostile-server test needs -------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: The key of clients pointed at a ``scripted`` server: long enough to be scrubbed (12+).
SCRIPTED_KEY = "sk-hostile-test-0123456789"


class Scripted:
    """``url`` to point a client at; ``requests`` every request seen (method, path and query)."""

    def __init__(self, url: str, requests: list[web.Request]) -> None:
        self.url = url
        self.requests = requests


@asynccontextmanager
async def serve(
    app: web.Application, *, shutdown_timeout: float = 1.0, max_line_size: int = 8190
) -> AsyncIterator[str]:
    """``app`` served on a free loopback port for the block: yields its base URL."""
    runner = web.AppRunner(
        app, access_log=None, shutdown_timeout=shutdown_timeout, max_line_size=max_line_size
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def scripted(handler: Handler) -> AsyncIterator[Scripted]:
    requests: list[web.Request] = []

    async def record(request: web.Request) -> web.StreamResponse:
        requests.append(request)
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    # Long request lines allowed: a test may send a page token of 100 KB back.
    async with serve(app, shutdown_timeout=0.5, max_line_size=2**20) as url:
        yield Scripted(url, requests)


def answers(*responses: Callable[[], web.StreamResponse]) -> Handler:
    """A handler giving each response in turn, the last one to every later request."""
    index = 0

    async def handle(_: web.Request) -> web.StreamResponse:
        nonlocal index
        make = responses[min(index, len(responses) - 1)]
        index += 1
        return make()

    return handle


def job(job_id: str = "cls-1", status: str = "COMPLETED", **fields: object) -> dict[str, object]:
    return {"id": job_id, "status": status, **fields}


def json_body(
    payload: object, status: int = 200, headers: dict[str, str] | None = None
) -> Callable[[], web.Response]:
    return lambda: web.json_response(payload, status=status, headers=headers)


def raw(
    body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> Callable[[], web.Response]:
    return lambda: web.Response(
        body=body, status=status, headers=headers, content_type="application/json"
    )


# -- documented examples: code blocks of README.md and docs/, run as written -----------------

#: A fenced code block, and the ```text block of its expected output if one follows.
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```\n(?:\n```text\n(.*?)^```\n)?", re.M | re.S)


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


async def assert_program_prints(
    code: str, expected: str, server: FakeClassifyServer, tmp_path: Path
) -> None:
    """Run ``code`` as a script against ``server``: it succeeds and prints ``expected``."""
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    status, output = await run_python([str(script)], child_env(server), tmp_path)
    assert status == 0, output
    assert_output_matches(output, expected)


def namespace_of(code: str) -> dict[str, Any]:
    """Run an example as an imported module would (``__name__`` is not ``"__main__"``)."""
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace


def cli_commands(consoles: Iterable[str]) -> list[str]:
    """Each ``aio-classify ...`` command of these console blocks: comments, the other commands
    of a pipeline and redirections left out."""
    return [
        re.split("[<>]", part, maxsplit=1)[0].strip()
        for code in consoles
        for line in code.splitlines()
        for part in line.split("#", 1)[0].split("|")
        if part.strip().startswith("aio-classify ")
    ]


class ThreadedFake:
    """A ``FakeClassifyServer`` serving from its own event loop in a thread, for sync code: the
    test's thread may block (in a sync client, or inside a running loop of its own) while the
    fake keeps answering. ``call`` runs a function on the fake's loop (to seed or move jobs)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="threaded-fake", daemon=True)
        self.server: FakeClassifyServer
        self._loop: asyncio.AbstractEventLoop
        self._stop: asyncio.Event

    def __enter__(self) -> ThreadedFake:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, function: Callable[[], Any]) -> Any:
        async def on_loop() -> Any:
            return function()

        return asyncio.run_coroutine_threadsafe(on_loop(), self._loop).result()

    def _serve(self) -> None:
        async def main() -> None:
            async with FakeClassifyServer(api_key=API_KEY, **self._options) as server:
                self.server, self._loop = server, asyncio.get_running_loop()
                self._stop = asyncio.Event()
                self._ready.set()
                await self._stop.wait()

        asyncio.run(main())


def eventually(condition: Callable[[], bool], *, within: float = 30.0) -> bool:
    """Whether ``condition()`` comes true within ``within`` seconds (a bound against hanging,
    not a timing claim): for state another thread or loop settles."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def admin_routes(server: FakeClassifyServer) -> set[str]:
    """``METHOD /_fake/...`` for every admin route the app serves (HEAD is aiohttp's own)."""
    return {
        f"{route.method} {route.resource.canonical}"
        for route in build_app(server).router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/_fake/")
        and route.method != "HEAD"
    }


def bash(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``script`` run by bash as a careful user's would be (``-e -o pipefail``), its output kept."""
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )
