"""Exact response sequences, scripted with aioresponses (run on aiohttp 3.13.x: see noxfile)."""

from __future__ import annotations

import logging
import re

import aiohttp
import pytest
from aioresponses import aioresponses

from aio_classify import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClassifyClient,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    ResponseValidationError,
    RetryPolicy,
    UnprocessableEntityError,
)

from helpers import SCRIPTED_BASE, scripted_client

JOB_URL = re.compile(r"^" + re.escape(SCRIPTED_BASE) + r"/api/v2/classify/job-1(\?.*)?$")
JOB = {"id": "job-1", "status": "COMPLETED"}


def calls(mocked: aioresponses) -> int:
    return sum(len(requests) for requests in mocked.requests.values())


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried_until_success(
    mocked: aioresponses, client: ClassifyClient, status: int
) -> None:
    mocked.get(JOB_URL, status=status, payload={"detail": "busy"})
    mocked.get(JOB_URL, status=status, payload={"detail": "busy"})
    mocked.get(JOB_URL, payload=JOB)
    job = await client.get_job("job-1")
    assert job.id == "job-1"
    assert calls(mocked) == 3


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (418, None),
    ],
)
async def test_client_errors_are_never_retried(
    mocked: aioresponses, client: ClassifyClient, status: int, error: type[Exception] | None
) -> None:
    mocked.get(JOB_URL, status=status, payload={"detail": "no"}, repeat=True)
    with pytest.raises(error or Exception) as caught:
        await client.get_job("job-1")
    assert caught.value.status_code == status  # type: ignore[attr-defined]
    assert caught.value.body == {"detail": "no"}  # type: ignore[attr-defined]
    assert calls(mocked) == 1


async def test_retries_give_up_after_max_retries(mocked: aioresponses) -> None:
    mocked.get(JOB_URL, status=503, payload={"detail": "down"}, repeat=True)
    async with scripted_client(max_retries=2) as client:
        with pytest.raises(InternalServerError) as caught:
            await client.get_job("job-1")
    assert caught.value.status_code == 503
    assert calls(mocked) == 3


async def test_max_retries_zero_is_one_attempt(mocked: aioresponses) -> None:
    mocked.get(JOB_URL, status=503, repeat=True)
    async with scripted_client(max_retries=0) as client:
        with pytest.raises(InternalServerError):
            await client.get_job("job-1")
    assert calls(mocked) == 1


async def test_connection_errors_and_timeouts_are_retried(
    mocked: aioresponses, client: ClassifyClient
) -> None:
    mocked.get(JOB_URL, exception=aiohttp.ClientConnectionError("reset"))
    mocked.get(JOB_URL, exception=TimeoutError())
    mocked.get(JOB_URL, payload=JOB)
    assert (await client.get_job("job-1")).id == "job-1"
    assert calls(mocked) == 3


async def test_persistent_timeouts_raise_api_timeout_error(mocked: aioresponses) -> None:
    mocked.get(JOB_URL, exception=TimeoutError(), repeat=True)
    async with scripted_client(max_retries=1) as client:
        with pytest.raises(APITimeoutError):
            await client.get_job("job-1")
    assert calls(mocked) == 2


async def test_persistent_connection_errors_raise_api_connection_error(
    mocked: aioresponses,
) -> None:
    mocked.get(JOB_URL, exception=aiohttp.ClientConnectionError("refused"), repeat=True)
    async with scripted_client(max_retries=1) as client:
        with pytest.raises(APIConnectionError, match="refused"):
            await client.get_job("job-1")


async def test_server_says_do_not_retry_wins(mocked: aioresponses, client: ClassifyClient) -> None:
    mocked.get(JOB_URL, status=503, headers={"x-should-retry": "false"}, repeat=True)
    with pytest.raises(InternalServerError):
        await client.get_job("job-1")
    assert calls(mocked) == 1


async def test_server_says_retry_wins_even_for_4xx(
    mocked: aioresponses, client: ClassifyClient
) -> None:
    mocked.get(JOB_URL, status=400, headers={"x-should-retry": "true"})
    mocked.get(JOB_URL, payload=JOB)
    assert (await client.get_job("job-1")).id == "job-1"
    assert calls(mocked) == 2


def logged_waits(caplog: pytest.LogCaptureFixture) -> list[float]:
    return [
        float(match.group(1))
        for record in caplog.records
        if (match := re.search(r"retrying in ([\d.]+)s", record.getMessage()))
    ]


async def test_retry_after_ms_sets_the_wait(
    mocked: aioresponses, client: ClassifyClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aio_classify")
    mocked.get(JOB_URL, status=429, headers={"retry-after-ms": "30"})
    mocked.get(JOB_URL, payload=JOB)
    await client.get_job("job-1")
    assert logged_waits(caplog) == [0.03]


async def test_retry_after_is_capped(
    mocked: aioresponses, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aio_classify")
    policy = RetryPolicy(initial_backoff=0.001, jitter=0.0, max_retry_after=0.02)
    mocked.get(JOB_URL, status=503, headers={"Retry-After": "120"})
    mocked.get(JOB_URL, payload=JOB)
    async with scripted_client(retry_policy=policy) as client:
        await client.get_job("job-1")
    assert logged_waits(caplog) == [0.02]


async def test_backoff_doubles_without_retry_after(
    mocked: aioresponses, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aio_classify")
    policy = RetryPolicy(initial_backoff=0.01, max_backoff=0.03, jitter=0.0)
    mocked.get(JOB_URL, status=500, repeat=True)
    async with scripted_client(max_retries=3, retry_policy=policy) as client:
        with pytest.raises(InternalServerError):
            await client.get_job("job-1")
    assert logged_waits(caplog) == [0.01, 0.02, 0.03]


async def test_malformed_json_is_a_validation_error_showing_the_body(
    mocked: aioresponses, client: ClassifyClient
) -> None:
    mocked.get(JOB_URL, body="<html>gateway</html>", content_type="text/html")
    with pytest.raises(ResponseValidationError, match="<html>gateway"):
        await client.get_job("job-1")
    assert calls(mocked) == 1


async def test_missing_required_field_is_named(
    mocked: aioresponses, client: ClassifyClient
) -> None:
    mocked.get(JOB_URL, payload={"id": "job-1"})
    with pytest.raises(ResponseValidationError, match="'status'"):
        await client.get_job("job-1")


async def test_key_never_appears_in_errors_or_logs(
    mocked: aioresponses, client: ClassifyClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mocked.get(JOB_URL, status=503, repeat=True)
    with pytest.raises(InternalServerError) as caught:
        await client.get_job("job-1")
    assert "sk-secret" not in str(caught.value)
    assert "sk-secret" not in repr(caught.value)
    assert "sk-secret" not in repr(client)
    assert caplog.records
    assert all("sk-secret" not in record.getMessage() for record in caplog.records)


async def test_bearer_header_is_sent(mocked: aioresponses, client: ClassifyClient) -> None:
    mocked.get(JOB_URL, payload=JOB)
    await client.get_job("job-1")
    ((_, request),) = mocked.requests.items()
    assert request[0].kwargs["headers"]["Authorization"] == "Bearer sk-secret"
    assert request[0].kwargs["allow_redirects"] is False


@pytest.mark.parametrize(("failures", "tenacity_built"), [(0, 0), (1, 1), (2, 1)])
async def test_tenacity_is_built_only_after_a_retryable_failure(
    mocked: aioresponses,
    client: ClassifyClient,
    monkeypatch: pytest.MonkeyPatch,
    failures: int,
    tenacity_built: int,
) -> None:
    built = []
    original = RetryPolicy.retrying
    monkeypatch.setattr(
        RetryPolicy,
        "retrying",
        lambda self, *args: built.append(1) or original(self, *args),
    )
    for _ in range(failures):
        mocked.get(JOB_URL, status=503, payload={"detail": "busy"})
    mocked.get(JOB_URL, payload=JOB)
    assert (await client.get_job("job-1")).id == "job-1"
    assert (calls(mocked), len(built)) == (failures + 1, tenacity_built)


async def test_the_direct_first_attempt_counts_towards_max_retries(mocked: aioresponses) -> None:
    for _ in range(4):
        mocked.get(JOB_URL, status=503, payload={"detail": "busy"})
    async with scripted_client(max_retries=2) as client:
        with pytest.raises(InternalServerError):
            await client.get_job("job-1")
    assert calls(mocked) == 3  # the first attempt and two retries
