"""The pytest plugin: a started fake server and a client bound to it, for your own tests.

Installed with the package (entry point ``pytest11``, name ``aio_classify``), so in any project
that has ``aio-classify`` and ``pytest-asyncio`` installed, a test just asks for the fixtures:

    async def test_report(classify_server, classify_client):
        classify_server.seed_jobs(120)
        jobs = [job async for job in classify_client.list_jobs()]
        assert len(jobs) == 120

Why a plugin rather than a recipe: each project wrote the same two fixtures, and most forgot the
fast retry policy, so a test of "the client gives up" waited through the real backoff (17 s).

The mark ``@pytest.mark.classify_server(...)`` passes its keyword arguments to
``FakeClassifyServer`` (``jobs=100``, ``lifecycle=Lifecycle(...)``, ``latency=0.05``, ...).
The package is imported only when a fixture is used, so merely having the plugin installed costs
a pytest run nothing (and does not import the package before coverage starts).
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from aio_classify._client import ClassifyClient
    from aio_classify._http.retry import RetryPolicy
    from aio_classify.testing._server import FakeClassifyServer

__all__ = ["FAKE_API_KEY", "classify_client", "classify_server", "fast_retry_policy"]

FAKE_API_KEY = "test-key"
"""The API key the ``classify_server`` fixture accepts (unless its mark sets ``api_key``)."""

_MARK = "classify_server"


def fast_retry_policy() -> RetryPolicy:
    """The client's retry rules with millisecond backoffs, so a test that makes the client
    retry (or give up) takes milliseconds instead of the real 0.5 s to 8 s waits."""
    from aio_classify._http.retry import RetryPolicy

    return RetryPolicy(initial_backoff=0.01, max_backoff=0.05, jitter=0.0)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``classify_server`` mark, so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        f"{_MARK}(**options): keyword arguments for the FakeClassifyServer that the "
        "classify_server fixture starts (jobs=, lifecycle=, latency=, seed=, api_key=, ...)",
    )


def _server_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {"api_key": FAKE_API_KEY}
    mark = request.node.get_closest_marker(_MARK)
    if mark is not None:
        if mark.args:
            raise TypeError(f"@pytest.mark.{_MARK} takes keyword arguments only")
        options.update(mark.kwargs)
    return options


# Installed, the plugin loads in every pytest run; without pytest-asyncio it must not break
# those runs, so the fixtures then only say what is missing.
if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def classify_server(request: pytest.FixtureRequest) -> AsyncIterator[FakeClassifyServer]:
        """A started ``FakeClassifyServer`` on 127.0.0.1, closed after the test.

        Empty unless the test's ``@pytest.mark.classify_server(jobs=N, ...)`` says otherwise;
        its API key is ``FAKE_API_KEY`` (``"test-key"``).
        """
        from aio_classify.testing import FakeClassifyServer

        async with FakeClassifyServer(**_server_options(request)) as server:
            yield server

    @pytest_asyncio.fixture
    async def classify_client(
        classify_server: FakeClassifyServer,
    ) -> AsyncIterator[ClassifyClient]:
        """A ``ClassifyClient`` bound to ``classify_server`` with ``fast_retry_policy()``,
        closed after the test."""
        from aio_classify._client import ClassifyClient

        async with ClassifyClient(
            classify_server.api_key, base_url=classify_server.url, retry_policy=fast_retry_policy()
        ) as client:
            yield client

else:

    @pytest.fixture
    def classify_server() -> None:
        """Needs pytest-asyncio; this stand-in only says so."""
        pytest.fail("the classify_server fixture needs pytest-asyncio: pip install pytest-asyncio")

    @pytest.fixture
    def classify_client() -> None:
        """Needs pytest-asyncio; this stand-in only says so."""
        pytest.fail("the classify_client fixture needs pytest-asyncio: pip install pytest-asyncio")
