"""The one converter: tolerant reading, strict writing, both input-field spellings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from aio_classify import (
    ClassifyConfiguration,
    ClassifyJob,
    ClassifyListResponse,
    ClassifyRule,
    JobStatus,
    Page,
    ParsingConfiguration,
    ResponseValidationError,
    WebhookConfiguration,
)
from aio_classify.conversion import converter, structure_job, structure_page

DOCUMENTED: dict[str, Any] = {
    "id": "id",
    "configuration": {
        "rules": [
            {
                "description": "contains invoice number, line items, and total amount",
                "type": "invoice",
            }
        ],
        "mode": "FAST",
        "parsing_configuration": {"lang": "en", "max_pages": 10, "target_pages": "1,3,5-7"},
    },
    "document_input_type": "url",
    "document_input_value": "document_input_value",
    "project_id": "project_id",
    "status": "PENDING",
    "user_id": "user_id",
    "configuration_id": "configuration_id",
    "created_at": "2019-12-27T18:11:19.117Z",
    "error_message": "error_message",
    "parse_job_id": "parse_job_id",
    "result": {"confidence": 0, "reasoning": "reasoning", "type": "type"},
    "transaction_id": "transaction_id",
    "updated_at": "2019-12-27T18:11:19.117Z",
}


def test_documented_example_reads_whole() -> None:
    job = structure_job(dict(DOCUMENTED))
    assert ClassifyListResponse is ClassifyJob
    assert job.status is JobStatus.PENDING and job.status == "PENDING"
    assert job.configuration is not None
    assert job.configuration.rules == (
        ClassifyRule(
            type="invoice", description="contains invoice number, line items, and total amount"
        ),
    )
    assert job.configuration.parsing_configuration == ParsingConfiguration(
        lang="en", max_pages=10, target_pages="1,3,5-7"
    )
    assert job.created_at == datetime(2019, 12, 27, 18, 11, 19, 117000, tzinfo=UTC)
    assert job.result is not None and job.result.type == "type"
    assert job.file_input == job.document_input_value == "document_input_value"
    assert not job.is_terminal


def test_live_shape_with_file_input_usage_cancelled_and_extra_keys() -> None:
    data = {
        "id": "j",
        "status": "CANCELLED",
        "file_input": "dfl-1",
        "usage": {"credits": 2.0, "parse_credits": None},
        "brand_new_field": {"nested": True},
        "created_at": "2026-01-02T03:04:05+02:00",
    }
    job = structure_job(data)
    assert job.document_input_value == job.file_input == "dfl-1"
    assert job.usage is not None and job.usage.credits == 2.0
    assert job.is_terminal and job.status is JobStatus.CANCELLED
    assert job.created_at is not None
    assert job.created_at.utcoffset() == timedelta(hours=2)


def test_naive_datetimes_are_read_as_utc() -> None:
    job = structure_job({"id": "j", "status": "RUNNING", "updated_at": "2026-01-02T03:04:05"})
    assert job.updated_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_unknown_status_and_mode_are_kept_as_strings() -> None:
    job = structure_job(
        {"id": "j", "status": "QUEUED", "configuration": {"rules": [], "mode": "THOROUGH"}}
    )
    assert job.status == "QUEUED" and type(job.status) is str
    assert job.is_terminal is False
    assert job.configuration is not None and job.configuration.mode == "THOROUGH"


@pytest.mark.parametrize("field", ["id", "status"])
def test_missing_required_field_is_named(field: str) -> None:
    data = {"id": "j", "status": "PENDING"}
    del data[field]
    with pytest.raises(ResponseValidationError, match=repr(field)):
        structure_job(data)


def test_page_shapes() -> None:
    page = structure_page({"items": [dict(DOCUMENTED)], "next_page_token": "t", "total_size": 9})
    assert len(page.items) == 1 and page.next_page_token == "t" and page.total_size == 9
    assert Page(page.items, "t", 9) == page  # API.md's Page(items, next_page_token, total_size)
    with pytest.raises(ResponseValidationError, match="'items'"):
        structure_page({"next_page_token": None})
    with pytest.raises(ResponseValidationError, match="JSON object"):
        structure_page([1, 2])
    with pytest.raises(ResponseValidationError, match="not-a-date"):
        structure_page({"items": [{"id": "j", "status": "PENDING", "created_at": "not-a-date"}]})


def test_records_are_frozen() -> None:
    job = structure_job({"id": "j", "status": "PENDING"})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        job.status = "RUNNING"  # type: ignore[misc]


def test_writing_drops_unset_fields() -> None:
    config = ClassifyConfiguration(
        rules=[ClassifyRule(type="invoice", description="has an invoice number and a total")],
        parsing_configuration=ParsingConfiguration(max_pages=3),
    )
    assert converter.unstructure(config) == {
        "rules": [{"type": "invoice", "description": "has an invoice number and a total"}],
        "parsing_configuration": {"max_pages": 3},
    }
    assert converter.unstructure(datetime(2026, 1, 1, tzinfo=UTC)) == ("2026-01-01T00:00:00+00:00")


def test_rules_must_be_a_sequence() -> None:
    with pytest.raises(TypeError, match="rules"):
        ClassifyConfiguration(rules="invoice")  # type: ignore[arg-type]


def test_webhook_configuration_masks_credentials_and_freezes_events() -> None:
    webhook = WebhookConfiguration(
        webhook_url="https://hooks.example/a",
        webhook_headers={"Authorization": "Bearer sk-secret"},
        webhook_events=["classify.success"],
        webhook_signing_secret="whsec_secret",
    )
    assert webhook.webhook_events == ("classify.success",)
    assert "sk-secret" not in repr(webhook) and "whsec_secret" not in repr(webhook)
    assert "'Authorization': '***'" in repr(webhook)
    assert converter.unstructure(webhook) == {
        "webhook_url": "https://hooks.example/a",
        "webhook_headers": {"Authorization": "Bearer sk-secret"},
        "webhook_events": ["classify.success"],
        "webhook_signing_secret": "whsec_secret",
    }
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        webhook.webhook_url = "https://elsewhere"  # type: ignore[misc]
