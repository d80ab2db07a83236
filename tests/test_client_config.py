"""Construction, configuration and argument checks: all fail before anything is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from aio_classify import DEFAULT_BASE_URL, ClassifyClient, JobStatus

# A port nothing listens on: any request that slipped through would fail loudly.
NOWHERE = "http://127.0.0.1:9"


def test_key_from_argument_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLAMA_CLOUD_API_KEY", raising=False)
    monkeypatch.delenv("LLAMA_CLOUD_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="LLAMA_CLOUD_API_KEY"):
        ClassifyClient()
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", "from-env")
    client = ClassifyClient()
    assert client.base_url == DEFAULT_BASE_URL
    assert "from-env" not in repr(client)


def test_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_CLOUD_BASE_URL", "https://eu.example.test/")
    assert ClassifyClient("k").base_url == "https://eu.example.test/"
    assert ClassifyClient("k", base_url="https://x.test").base_url == "https://x.test"


@pytest.mark.parametrize(
    "url",
    ["http://api.cloud.llamaindex.ai", "http://10.0.0.5:8000", "http://example.com", "ftp://x"],
)
def test_plain_http_refused_off_loopback(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        ClassifyClient("k", base_url=url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:80", "http://127.9.9.9"]
)
def test_plain_http_allowed_on_loopback(url: str) -> None:
    assert ClassifyClient("k", base_url=url).base_url.startswith("http://")


def test_repr_shows_configuration_not_key() -> None:
    client = ClassifyClient("sk-very-secret", base_url=NOWHERE, project_id="p1")
    text = repr(client)
    assert "sk-very-secret" not in text
    assert "p1" in text and "127.0.0.1:9" in text


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"timeout": 0}, ValueError, "timeout"),
        ({"max_retries": -1}, ValueError, "max_retries"),
        ({"max_connections": 0}, ValueError, "max_connections"),
        ({"session": object()}, TypeError, "session"),
        ({"project_id": 5}, TypeError, "project_id"),
    ],
)
def test_bad_client_options(kwargs: dict[str, Any], error: type[Exception], name: str) -> None:
    with pytest.raises(error, match=name):
        ClassifyClient("k", base_url=NOWHERE, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"status": "DONE"}, ValueError, "status"),
        ({"status": 3}, TypeError, "status"),
        ({"page_size": 0}, ValueError, "page_size"),
        ({"page_size": 101}, ValueError, "page_size"),
        ({"page_size": "10"}, TypeError, "page_size"),
        ({"limit": 0}, ValueError, "limit"),
        ({"created_at_on_or_after": "yesterday"}, ValueError, "created_at_on_or_after"),
        ({"created_at_on_or_before": "2026-13-01"}, ValueError, "created_at_on_or_before"),
        ({"created_at_on_or_before": 12}, TypeError, "created_at_on_or_before"),
        ({"job_ids": "abc"}, TypeError, "job_ids"),
        ({"job_ids": ["a", ""]}, ValueError, "job_ids"),
        ({"job_ids": ["a", 7]}, TypeError, "job_ids"),
        ({"page_token": ""}, ValueError, "page_token"),
        ({"configuration_id": 1}, TypeError, "configuration_id"),
    ],
)
def test_list_jobs_checks_arguments_at_once(
    kwargs: dict[str, Any], error: type[Exception], name: str
) -> None:
    client = ClassifyClient("k", base_url=NOWHERE)
    with pytest.raises(error, match=name):
        client.list_jobs(**kwargs)


def test_list_jobs_accepts_good_arguments_without_a_loop() -> None:
    client = ClassifyClient("k", base_url=NOWHERE)
    client.list_jobs(
        status=JobStatus.FAILED,
        created_at_on_or_after=datetime(2026, 1, 1),
        created_at_on_or_before="2026-02-01T00:00:00Z",
        page_size=100,
        limit=5,
        job_ids=iter(["a", "b"]),
    )
    client.list_jobs(status="CANCELLED")


async def test_close_is_idempotent_and_use_after_close_is_clear() -> None:
    client = ClassifyClient("k", base_url=NOWHERE)
    await client.close()
    await client.close()
    assert client.closed
    with pytest.raises(RuntimeError, match="closed"):
        await client.get_job("x")
