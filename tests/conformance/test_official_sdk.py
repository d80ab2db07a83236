"""The official ``llama_cloud`` SDK works against the fake: proof the fake speaks the real wire
format (paths, query encoding, bodies, response shapes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import llama_cloud
import pytest

from aio_classify.testing import FakeClassifyServer

RULES = [
    {"type": "invoice", "description": "Has an invoice number and an amount due."},
    {"type": "receipt", "description": "Proof of purchase with items and taxes paid."},
]


@pytest.fixture
async def sdk(server: FakeClassifyServer) -> AsyncIterator[llama_cloud.AsyncLlamaCloud]:
    async with llama_cloud.AsyncLlamaCloud(
        api_key=server.api_key,
        base_url=server.url,
        max_retries=0,
        timeout=10.0,
        _strict_response_validation=True,  # every answer must parse as the SDK's models
    ) as client:
        yield client


async def test_sdk_lists_every_page(
    server: FakeClassifyServer, sdk: llama_cloud.AsyncLlamaCloud
) -> None:
    ids = server.seed_jobs(250)
    listed = [job.id async for job in sdk.classify.list(page_size=100)]
    assert listed == ids
    first = await sdk.classify.list(page_size=100)
    assert len(first.items) == 100
    assert first.next_page_token


async def test_sdk_filters_by_repeated_job_ids_status_and_dates(
    server: FakeClassifyServer, sdk: llama_cloud.AsyncLlamaCloud
) -> None:
    ids = server.seed_jobs(60, statuses="COMPLETED")
    picked = [ids[2], ids[40], ids[9]]
    found = [job.id async for job in sdk.classify.list(job_ids=picked, status="COMPLETED")]
    assert found == [ids[2], ids[9], ids[40]]
    low = server.job(ids[30])["created_at"]  # type: ignore[index]
    high = server.job(ids[10])["created_at"]  # type: ignore[index]
    window = sdk.classify.list(
        created_at_on_or_after=datetime.fromisoformat(low),
        created_at_on_or_before=datetime.fromisoformat(high),
    )
    assert [job.id async for job in window] == ids[10:31]


async def test_sdk_gets_a_job_with_every_field(
    server: FakeClassifyServer, sdk: llama_cloud.AsyncLlamaCloud
) -> None:
    (job_id,) = server.seed_jobs(1, statuses="COMPLETED")
    job = await sdk.classify.get(job_id)
    raw = server.job(job_id)
    assert raw is not None
    assert job.id == job_id
    assert job.status == "COMPLETED"
    assert job.result is not None
    assert job.result.confidence == raw["result"]["confidence"]
    assert job.file_input == raw["file_input"]
    assert job.usage is None  # sent only when asked for
    expanded = await sdk.classify.get(job_id, expand=["usage"])
    assert expanded.usage is not None
    assert expanded.usage.credits == raw["usage"]["credits"]
    with pytest.raises(llama_cloud.NotFoundError):
        await sdk.classify.get("cls-missing")


async def test_sdk_creates_cancels_and_deletes(
    server: FakeClassifyServer, sdk: llama_cloud.AsyncLlamaCloud
) -> None:
    created = await sdk.classify.create(
        file_input="dfl-invoice-7.pdf",
        configuration={"rules": RULES, "parsing_configuration": {"max_pages": 2}},
        transaction_id="txn-sdk",
    )
    assert created.status == "PENDING"
    assert created.configuration.rules[0].type == "invoice"
    again = await sdk.classify.create(
        file_input="dfl-other.pdf", configuration={"rules": RULES}, transaction_id="txn-sdk"
    )
    assert again.id == created.id
    with pytest.raises(llama_cloud.UnprocessableEntityError):
        await sdk.classify.create(file_input="dfl-x.pdf", configuration={"rules": []})

    with pytest.raises(llama_cloud.ConflictError):
        await sdk.classify.delete(created.id)
    cancelled = await sdk.classify.cancel(created.id)
    assert cancelled.status == "CANCELLED"
    with pytest.raises(llama_cloud.ConflictError):
        await sdk.classify.cancel(created.id)
    deleted = await sdk.classify.delete(created.id)
    assert deleted.id == created.id
    assert deleted.project_id == server.project_id
    with pytest.raises(llama_cloud.NotFoundError):
        await sdk.classify.get(created.id)


async def test_sdk_surfaces_injected_faults(
    server: FakeClassifyServer, sdk: llama_cloud.AsyncLlamaCloud
) -> None:
    server.fail_next(503)
    with pytest.raises(llama_cloud.InternalServerError):
        await sdk.classify.list()
    server.fail_next(429, headers={"Retry-After": "0"})
    with pytest.raises(llama_cloud.RateLimitError):
        await sdk.classify.list()
    async with llama_cloud.AsyncLlamaCloud(api_key="wrong", base_url=server.url) as bad:
        with pytest.raises(llama_cloud.AuthenticationError):
            await bad.classify.list()


async def test_sdk_sends_webhooks_and_urls_and_scopes_by_project(
    server: FakeClassifyServer, sdk: llama_cloud.AsyncLlamaCloud
) -> None:
    webhook = {
        "webhook_url": "https://hooks.example/classify",
        "webhook_events": ["classify.success", "classify.error"],
        "webhook_signing_secret": "whsec_sdk",
    }
    created = await sdk.classify.create(
        file_input="https://files.example/invoice.pdf",
        configuration={"rules": RULES, "parsing_configuration": {"max_pages": 1}},
        webhook_configurations=[webhook],
        webhook_configuration_ids=["whc-1"],
    )
    assert created.document_input_type == "url"
    assert created.configuration.parsing_configuration is not None
    assert created.configuration.parsing_configuration.lang == "en"
    stored = server.store.get(created.id)
    assert stored is not None
    assert stored.webhook_configurations[0]["webhook_signing_secret"] == "whsec_sdk"
    assert stored.webhook_configuration_ids == ("whc-1",)
    other = "0e0e0e0e-0000-4000-8000-000000000000"
    with pytest.raises(llama_cloud.NotFoundError):
        await sdk.classify.get(created.id, project_id=other)
    assert (await sdk.classify.get(created.id, project_id=server.project_id)).id == created.id
    with pytest.raises(llama_cloud.UnprocessableEntityError):
        await sdk.classify.list(project_id="not-a-uuid")
