"""The facade: construction and configuration, argument checks that fail before anything is
sent, and ``get_job``, ``create_job``, ``run``, ``cancel_job``, ``delete_job`` against the fake."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from aio_classify import (
    DEFAULT_BASE_URL,
    ClassifyClient,
    ClassifyConfiguration,
    ClassifyRule,
    ConflictError,
    JobStatus,
    NotFoundError,
    ParsingConfiguration,
    WebhookConfiguration,
)
from aio_classify.testing import FakeClassifyServer, Lifecycle

from helpers import API_KEY, CONFIG, LIST, RULES, posts

# A port nothing listens on: any request that slipped through would fail loudly.
NOWHERE = "http://127.0.0.1:9"


async def test_create_job_sends_a_uuid_transaction_id(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    job = await client.create_job("dfl-invoice-1.pdf", configuration=CONFIG)
    assert job.status == JobStatus.PENDING
    assert job.file_input == "dfl-invoice-1.pdf"
    assert job.configuration is not None
    assert job.configuration.rules == tuple(RULES)
    assert job.transaction_id is not None
    assert uuid.UUID(job.transaction_id).version == 4
    assert server.job(job.id) is not None


async def test_503_on_create_then_success_leaves_exactly_one_job(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    before = len(server.job_ids)
    server.fail_next(503, method="POST", path=LIST)
    job = await client.create_job("dfl-invoice-2.pdf", configuration=CONFIG)
    assert len(posts(server)) == 2
    assert len(server.job_ids) == before + 1
    assert server.job(job.id) is not None


async def test_reused_transaction_id_returns_the_original_job(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    first = await client.create_job("dfl-a.pdf", configuration=CONFIG, transaction_id="tx-1")
    again = await client.create_job("dfl-a.pdf", configuration=CONFIG, transaction_id="tx-1")
    assert again.id == first.id
    assert len(server.job_ids) == 1


async def test_dict_configuration_and_configuration_id(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    config = {
        "rules": [{"type": "memo", "description": "An internal company memo"}],
        "parsing_configuration": {"max_pages": 2, "target_pages": "1-2"},
    }
    job = await client.create_job("dfl-memo.pdf", config, webhook_configuration_ids=["wh-1"])
    assert job.configuration is not None
    assert job.configuration.parsing_configuration == ParsingConfiguration(
        lang="en", max_pages=2, target_pages="1-2"
    )
    by_id = await client.create_job(
        "dfl-x.pdf", configuration_id="cfg-1", project_id="99999999-0000-4000-8000-000000000009"
    )
    assert by_id.configuration_id == "cfg-1"
    assert ("project_id", "99999999-0000-4000-8000-000000000009") in posts(server)[-1].query


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"configuration": ClassifyConfiguration(rules=[])}, ValueError, "at least one rule"),
        ({"configuration": {"rules": []}}, ValueError, "at least one rule"),
        (
            {"configuration": {"rules": [{"type": "a", "description": "nine char"}]}},
            ValueError,
            r"configuration.rules\[0\].description must be 10..2000 characters; got 9",
        ),
        (
            {
                "configuration": ClassifyConfiguration(
                    rules=[*RULES, ClassifyRule(type="", description="0123456789")]
                )
            },
            ValueError,
            r"configuration.rules\[2\].type must be 1..50 characters",
        ),
        (
            {
                "configuration": ClassifyConfiguration(
                    rules=[ClassifyRule(type="x" * 51, description="0123456789")]
                )
            },
            ValueError,
            r"rules\[0\].type must be 1..50",
        ),
        (
            {
                "configuration": ClassifyConfiguration(
                    rules=RULES, parsing_configuration=ParsingConfiguration(max_pages=0)
                )
            },
            ValueError,
            "max_pages must be at least 1",
        ),
        (
            {"configuration": CONFIG, "configuration_id": "cfg-1"},
            ValueError,
            "either configuration or configuration_id, not both",
        ),
        ({}, ValueError, "one of configuration or configuration_id is required"),
        ({"configuration": {"rule": []}}, ValueError, "lacks the field 'rules'"),
        ({"configuration": "cfg"}, TypeError, "must be a ClassifyConfiguration or a dict"),
        ({"configuration": CONFIG, "transaction_id": ""}, ValueError, "transaction_id"),
        ({"configuration": CONFIG, "transaction_id": 7}, TypeError, "transaction_id"),
        (
            {"configuration": CONFIG, "webhook_configuration_ids": "wh"},
            TypeError,
            "^webhook_configuration_ids must be an iterable of str, not a single str",
        ),
        (
            {"configuration": CONFIG, "webhook_configuration_ids": ["wh", ""]},
            ValueError,
            "^webhook_configuration_ids item must not be empty",
        ),
    ],
)
async def test_bad_create_arguments_raise_before_any_request(
    server: FakeClassifyServer,
    client: ClassifyClient,
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        await client.create_job("dfl-1.pdf", **kwargs)
    with pytest.raises(error, match=message):
        await client.run("dfl-1.pdf", **kwargs)
    assert server.requests == []


async def test_run_creates_and_waits(server: FakeClassifyServer, client: ClassifyClient) -> None:
    server.lifecycle = Lifecycle(running_after=0.05, finish_after=0.1)
    job = await client.run("dfl-receipt-7.pdf", CONFIG, poll_interval=0.03, max_interval=0.05)
    assert job.status == JobStatus.COMPLETED
    assert job.result is not None
    assert job.result.type == "receipt"
    with pytest.raises(ValueError, match="poll_interval"):
        await client.run("dfl-1.pdf", CONFIG, poll_interval=0)
    assert len(posts(server)) == 1  # a bad polling option creates no job


async def test_cancel_job(server: FakeClassifyServer, client: ClassifyClient) -> None:
    job_id = server.add_job(status="RUNNING")["id"]
    job = await client.cancel_job(job_id)
    assert job.status == JobStatus.CANCELLED
    assert server.job(job_id)["status"] == "CANCELLED"  # type: ignore[index]


async def test_cancel_of_an_already_cancelled_job_returns_it(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    # What a retried cancel sees when its first attempt went through but the answer was lost.
    job_id = server.add_job(status="RUNNING")["id"]
    server.set_status(job_id, "CANCELLED")
    job = await client.cancel_job(job_id)
    assert job.status == JobStatus.CANCELLED
    routes = [r.route for r in server.requests]
    assert routes == [
        "POST /api/v2/classify/{job_id}/cancel",
        "GET /api/v2/classify/{job_id}",
    ]


async def test_cancel_of_a_finished_job_is_a_conflict(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    (done_id,) = server.seed_jobs(1, statuses="COMPLETED")
    with pytest.raises(ConflictError, match="already COMPLETED"):
        await client.cancel_job(done_id)
    with pytest.raises(NotFoundError):
        await client.cancel_job("cls-unknown")


async def test_delete_job(server: FakeClassifyServer, client: ClassifyClient) -> None:
    (done_id,) = server.seed_jobs(1, statuses="FAILED")
    running_id = server.add_job(status="RUNNING")["id"]
    assert await client.delete_job(done_id) is None
    assert server.job(done_id) is None
    with pytest.raises(ConflictError):
        await client.delete_job(running_id)
    assert server.job(running_id) is not None
    with pytest.raises(ValueError, match="job_id must not be empty"):
        await client.delete_job("")


async def test_create_body_is_the_converter_output(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    await client.create_job("dfl-1.pdf", CONFIG, transaction_id="tx-9")
    (request,) = posts(server)
    assert request.headers["Content-Type"].startswith("application/json")
    job = server.job(server.job_ids[0])
    assert job is not None
    assert job["configuration"]["rules"] == [
        {"type": "invoice", "description": "A bill asking for payment"},
        {"type": "receipt", "description": "Proof that a payment was made"},
    ]
    assert job["transaction_id"] == "tx-9"


async def test_webhook_configurations_records_and_dicts_reach_the_stored_job(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    signed = WebhookConfiguration(
        webhook_url="https://hooks.example/a",
        webhook_headers={"Authorization": "Bearer sk-1"},
        webhook_events=["classify.success", "classify.error"],
        webhook_output_format="json",
        webhook_signing_secret="whsec_1",
    )
    plain = {"webhook_url": "https://hooks.example/b"}
    job = await client.create_job(
        "dfl-1.pdf", CONFIG, webhook_configurations=[signed, plain], webhook_configuration_ids=[]
    )
    stored = server.store.get(job.id)
    assert stored is not None
    assert stored.webhook_configurations == (
        {
            "webhook_url": "https://hooks.example/a",
            "webhook_headers": {"Authorization": "Bearer sk-1"},
            "webhook_events": ["classify.success", "classify.error"],
            "webhook_output_format": "json",
            "webhook_signing_secret": "whsec_1",
        },
        {
            "webhook_url": "https://hooks.example/b",
            "webhook_headers": None,
            "webhook_events": None,
            "webhook_output_format": None,
            "webhook_signing_secret": None,
        },
    )
    server.lifecycle = Lifecycle(running_after=0.01, finish_after=0.02)
    ran = await client.run(
        "dfl-2.pdf", CONFIG, poll_interval=0.02, max_interval=0.02, webhook_configurations=[plain]
    )
    assert [w["webhook_url"] for w in server.store.get(ran.id).webhook_configurations] == [
        "https://hooks.example/b"
    ]


@pytest.mark.parametrize(
    ("webhooks", "error", "message"),
    [
        ({"webhook_url": "https://x"}, TypeError, "iterable of records, not dict"),
        ([{"webhook_secret": "s"}], ValueError, r"webhook_configurations\[0\] has unknown keys"),
        (["https://x"], TypeError, r"webhook_configurations\[0\] must be a WebhookConfiguration"),
        ([{"webhook_url": 5}], TypeError, r"\[0\].webhook_url must be a str"),
        ([{"webhook_headers": {"A": 1}}], TypeError, "webhook_headers must map str to str"),
        ([{"webhook_events": "classify.success"}], TypeError, "sequence of str"),
        ([{"webhook_events": [1]}], TypeError, r"webhook_events\[0\] must be a str"),
    ],
)
async def test_bad_webhook_configurations_raise_before_any_request(
    server: FakeClassifyServer,
    client: ClassifyClient,
    webhooks: Any,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        await client.create_job("dfl-1.pdf", CONFIG, webhook_configurations=webhooks)
    with pytest.raises(error, match=message):
        await client.run("dfl-1.pdf", CONFIG, webhook_configurations=webhooks)
    assert server.requests == []


async def test_get_job_found_and_not_found(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    (job_id,) = server.seed_jobs(1)
    job = await client.get_job(job_id)
    assert job.id == job_id
    with pytest.raises(NotFoundError) as caught:
        await client.get_job("cls-missing")
    assert caught.value.status_code == 404
    assert len(server.requests) == 2  # a 404 is not retried


@pytest.mark.parametrize("job_id", ["../x", "a/b", "?q", "..", "%2F", "x#y"])
async def test_get_job_ids_cannot_reach_another_route(
    server: FakeClassifyServer, client: ClassifyClient, job_id: str
) -> None:
    server.seed_jobs(3)
    with pytest.raises(NotFoundError):
        await client.get_job(job_id)
    (request,) = server.requests
    assert request.route == "GET /api/v2/classify/{job_id}"


async def test_get_job_odd_but_real_ids_round_trip(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    server.add_job(id="a/b?c", status="RUNNING")
    assert (await client.get_job("a/b?c")).id == "a/b?c"


@pytest.mark.parametrize(("job_id", "error"), [("", ValueError), (None, TypeError), (5, TypeError)])
async def test_get_job_bad_ids_send_nothing(
    server: FakeClassifyServer, client: ClassifyClient, job_id: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match="job_id"):
        await client.get_job(job_id)  # type: ignore[arg-type]
    assert server.requests == []


async def test_contract_arguments_may_be_given_by_position(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    """API.md writes these signatures without keyword-only markers; positional calls work."""
    failed = server.seed_jobs(3, statuses="FAILED")
    server.seed_jobs(2, statuses="COMPLETED")
    assert [job.id async for job in client.list_jobs("FAILED")] == failed
    assert list(await client.get_jobs(failed, 2, 1)) == failed
    assert [job.id async for job in client.iter_jobs(failed[:1], 1, 1)] == failed[:1]
    finished = await client.wait_for_jobs(failed, 0.01, 0.02, 5.0, 1, 100)
    assert list(finished) == failed
    job = await client.wait_for_job(failed[0], 0.01, 0.02, 5.0, False)
    assert job.status == "FAILED"
    created = await client.create_job("dfl-invoice-1.pdf", None, "cfg-1", "txn-1")
    assert (created.configuration_id, created.transaction_id) == ("cfg-1", "txn-1")


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
        ({"rate_limit": 0}, ValueError, "rate_limit"),
        ({"rate_limit": {"create": -1}}, ValueError, "rate_limit"),
        ({"rate_limit": {"creates": 1}}, ValueError, "rate_limit"),
        ({"rate_limit": "fast"}, TypeError, "rate_limit"),
        ({"adaptive_throttling": "no"}, TypeError, "adaptive_throttling"),
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


async def test_get_job_asks_for_usage_only_with_expand(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    (job_id,) = server.seed_jobs(1, statuses="COMPLETED")
    plain = await client.get_job(job_id)
    assert plain.usage is None
    expanded = await client.get_job(job_id, ["usage"])
    assert expanded.usage is not None
    assert expanded.usage.credits == server.job(job_id)["usage"]["credits"]  # type: ignore[index]
    assert [r.query for r in server.requests] == [(), (("expand", "usage"),)]
    await client.get_job(job_id, expand=("usage", "other"))
    assert server.requests[-1].query == (("expand", "usage"), ("expand", "other"))
    with pytest.raises(TypeError, match="expand"):
        await client.get_job(job_id, expand="usage")
    assert len(server.requests) == 3


@pytest.mark.parametrize("input_fields", ["file_input", "document_input_value", "both"])
async def test_both_generations_of_job_records_read_alike(input_fields: str) -> None:
    """The seed page's ``document_input_value``, today's ``file_input``, a URL input."""
    async with (
        FakeClassifyServer(API_KEY, input_fields=input_fields) as server,
        ClassifyClient(API_KEY, base_url=server.url) as client,
    ):
        url = "https://files.example/invoice.pdf"
        job_id = server.create(url, configuration_id="cfg-1").key[1]
        (listed,) = [job async for job in client.list_jobs()]
        got = await client.get_job(job_id)
    for job in (listed, got):
        assert job.document_input_type == "url"
        assert job.file_input == job.document_input_value == url
