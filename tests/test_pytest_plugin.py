"""The pytest plugin as a user's project meets it: a separate pytest run (pytester) over test
files that only name the fixtures.

When aio-classify is installed (as in nox), the inner run finds the plugin through its
``pytest11`` entry point, exactly as a user's would; from a source tree that was never installed
it is passed with ``-p``, so the test means the same thing either way.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from helpers import use_child_env

pytest_plugins = ["pytester"]

USER_TESTS = """
import pytest

from aio_classify import InternalServerError, NotFoundError
from aio_classify.testing import Lifecycle

SEEN = []


@pytest.mark.asyncio
async def test_lists_what_the_test_seeds(classify_server, classify_client):
    classify_server.seed_jobs(120)
    jobs = [job async for job in classify_client.list_jobs(page_size=100)]
    assert len(jobs) == 120
    assert len(classify_server.requests) == 2
    SEEN.append(classify_server.url)


@pytest.mark.asyncio
async def test_each_test_gets_a_fresh_server(classify_server, classify_client):
    assert classify_server.url not in SEEN
    assert [job async for job in classify_client.list_jobs()] == []


@pytest.mark.asyncio
async def test_retries_are_fast_and_then_give_up(classify_server, classify_client):
    classify_server.fail_next(503, count=10)
    with pytest.raises(InternalServerError):
        await classify_client.get_job("cls-1")
    assert len(classify_server.requests) == 6  # the first attempt and 5 retries
    with pytest.raises(NotFoundError):
        await classify_client.get_job("cls-1")


@pytest.mark.asyncio
@pytest.mark.classify_server(jobs=30, api_key="other-key", lifecycle=Lifecycle(0.01, 0.02))
async def test_the_mark_configures_the_server(classify_server, classify_client):
    assert classify_server.api_key == "other-key"
    assert len([job async for job in classify_client.list_jobs()]) == 30
    rules = {"rules": [{"type": "invoice", "description": "has an invoice number"}]}
    job = await classify_client.run(file_input="dfl-1", configuration=rules, poll_interval=0.01)
    assert job.status == "COMPLETED"
"""


def plugin_args() -> list[str]:
    installed = entry_points(group="pytest11", name="aio_classify")
    return [] if installed else ["-p", "aio_classify.pytest_plugin"]


@pytest.fixture
def user_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project of the user's: this checkout importable, nothing of our own conftest."""
    use_child_env(monkeypatch)
    pytester.makepyfile(test_user=USER_TESTS)
    return pytester


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_the_fixtures_work_in_a_users_project(user_project: pytest.Pytester, mode: str) -> None:
    result = user_project.runpytest_subprocess(
        *plugin_args(),
        f"--asyncio-mode={mode}",
        "--strict-markers",
        "-W",
        "error::ResourceWarning",
        "-W",
        "error::pytest.PytestUnraisableExceptionWarning",
    )
    result.assert_outcomes(passed=4)


def test_the_fixtures_are_documented_in_pytest_fixtures(user_project: pytest.Pytester) -> None:
    result = user_project.runpytest_subprocess(*plugin_args(), "--fixtures")
    assert result.ret == 0
    output = result.stdout.str()
    assert "classify_server -- " in output and "A started ``FakeClassifyServer``" in output
    assert "classify_client -- " in output and "fast_retry_policy()" in output


def test_the_mark_is_registered(user_project: pytest.Pytester) -> None:
    result = user_project.runpytest_subprocess(*plugin_args(), "--markers")
    assert "@pytest.mark.classify_server(**options)" in result.stdout.str()


def test_without_pytest_asyncio_the_fixtures_say_what_is_missing(
    user_project: pytest.Pytester,
) -> None:
    # Loaded before the plugin, this makes ``pytest_asyncio`` unimportable, as in a project
    # that never installed it; the plugin must load anyway and not break other tests.
    user_project.makepyfile(hide_pytest_asyncio="import sys\nsys.modules['pytest_asyncio'] = None")
    user_project.makepyfile(
        test_user="def test_other():\n    pass\n\ndef test_fake(classify_server):\n    pass\n"
    )
    result = user_project.runpytest_subprocess(
        "-p", "no:asyncio", "-p", "hide_pytest_asyncio", *plugin_args()
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*classify_server fixture needs pytest-asyncio*"])
