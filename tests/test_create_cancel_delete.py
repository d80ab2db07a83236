"""``create_job``, ``run``, ``cancel_job``, ``delete_job`` against the fake server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from aio_classify import (
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

LIST = "/api/v2/classify"
RULES = [
    ClassifyRule(type="invoice", description="A bill asking for payment"),
    ClassifyRule(type="receipt", description="Proof that a payment was made"),
]
CONFIG = ClassifyConfiguration(rules=RULES)


def posts(server: FakeClassifyServer) -> list[Any]:
    return [r for r in server.requests if r.method == "POST" and r.path == LIST]


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
        max_pages=2, target_pages="1-2"
    )
    by_id = await client.create_job("dfl-x.pdf", configuration_id="cfg-1", project_id="prj-9")
    assert by_id.configuration_id == "cfg-1"
    assert ("project_id", "prj-9") in posts(server)[-1].query


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
        ({"configuration": CONFIG, "transaction_id": ""}, TypeError, "transaction_id"),
        ({"configuration": CONFIG, "webhook_configuration_ids": "wh"}, TypeError, "single str"),
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
        ({"webhook_url": "https://x"}, TypeError, "iterable, not a single dict"),
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
