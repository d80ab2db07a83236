"""The one converter: tolerant reading, strict writing, both input-field spellings."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aio_classify import (
    ClassifyClient,
    ClassifyConfiguration,
    ClassifyJob,
    ClassifyListResponse,
    ClassifyResult,
    ClassifyRule,
    JobStatus,
    Page,
    ParsingConfiguration,
    ResponseValidationError,
    Usage,
    WebhookConfiguration,
)
from aio_classify._decode.conversion import converter, structure_job, structure_page
from aio_classify.testing import FakeClassifyServer

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
    data = webhook.to_dict()  # every field, as the other records' to_dict
    assert data["webhook_output_format"] is None and data["webhook_events"] == ["classify.success"]
    assert WebhookConfiguration.from_dict(json.loads(json.dumps(data))) == webhook


# -- records as plain dicts: to_dict / from_dict ----------------------------------------------

EVERY_FIELD = ClassifyJob(
    id="cls-1",
    status=JobStatus.COMPLETED,
    configuration=ClassifyConfiguration(
        rules=[ClassifyRule(type="invoice", description="has an invoice number and a total")],
        mode="THOROUGH",  # unknown to this client: kept as a plain string
        parsing_configuration=ParsingConfiguration(lang="en", max_pages=3, target_pages="1-2"),
    ),
    document_input_type="file_id",
    document_input_value="dfl-1",
    file_input="dfl-1",
    project_id="prj-1",
    user_id="usr-1",
    configuration_id="cfg-1",
    created_at=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone(timedelta(hours=2))),
    updated_at=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
    error_message=None,
    parse_job_id="pjb-1",
    result=ClassifyResult(confidence=0.9, reasoning="an invoice number", type="invoice"),
    transaction_id="tx-1",
    usage=Usage(credits=1.5, parse_credits=0.5),
)


def test_every_model_has_to_dict_and_from_dict() -> None:
    from aio_classify._core import models

    records = [getattr(models, name) for name in models.__all__]
    records = [cls for cls in records if attrs.has(cls)]
    assert len(records) >= 7
    for cls in records:
        assert issubclass(cls, models.Record), f"{cls.__name__} lacks to_dict / from_dict"


def test_job_to_dict_is_json_safe_and_reads_back_equal() -> None:
    data = EVERY_FIELD.to_dict()
    text = json.dumps(data)
    assert data["created_at"] == "2026-01-02T03:04:05.678000+02:00"
    assert data["updated_at"] == "2026-01-02T03:04:06+00:00"
    assert data["status"] == "COMPLETED" and type(data["status"]) is str
    assert data["configuration"]["rules"] == [
        {"type": "invoice", "description": "has an invoice number and a total"}
    ]
    assert data["configuration"]["mode"] == "THOROUGH"
    assert data["usage"] == {"credits": 1.5, "parse_credits": 0.5}
    assert data["error_message"] is None  # every field is present, None included
    assert set(data) == {field.name for field in attrs.fields(ClassifyJob)}
    again = ClassifyJob.from_dict(json.loads(text))
    assert again == EVERY_FIELD
    assert again.created_at is not None and again.created_at.utcoffset() == timedelta(hours=2)
    assert again.status is JobStatus.COMPLETED


def test_every_part_round_trips_on_its_own() -> None:
    assert EVERY_FIELD.configuration is not None and EVERY_FIELD.result is not None
    parts = [
        EVERY_FIELD.configuration,
        EVERY_FIELD.configuration.rules[0],
        EVERY_FIELD.configuration.parsing_configuration,
        EVERY_FIELD.result,
        EVERY_FIELD.usage,
        ClassifyConfiguration(rules=[ClassifyRule(type="a", description="0123456789")]),
        ClassifyJob(id="cls-2", status="QUEUED"),
        Page((EVERY_FIELD, ClassifyJob(id="cls-2", status="QUEUED")), "token", 2),
        Page((), None, None),
        WebhookConfiguration(
            webhook_url="https://hooks.example/a",
            webhook_headers={"X-Team": "docs"},
            webhook_events=["classify.success"],
            webhook_signing_secret="whsec_1",
        ),
    ]
    for part in parts:
        assert part is not None
        text = json.dumps(part.to_dict())
        assert type(part).from_dict(json.loads(text)) == part, type(part).__name__


def test_page_to_dict_holds_jobs_as_dicts() -> None:
    page = Page((EVERY_FIELD,), "t", 7)
    data = page.to_dict()
    assert data == {"items": [EVERY_FIELD.to_dict()], "next_page_token": "t", "total_size": 7}


def test_from_dict_reads_the_wire_shape_like_the_client_and_leaves_its_input_alone() -> None:
    wire = {"items": [dict(DOCUMENTED)], "next_page_token": None, "total_size": 1}
    before = json.dumps(wire, sort_keys=True)
    assert Page.from_dict(wire) == structure_page(json.loads(before))
    assert json.dumps(wire, sort_keys=True) == before  # nothing filled in or moved
    assert ClassifyJob.from_dict(DOCUMENTED) == structure_job(dict(DOCUMENTED))
    unknown = ClassifyJob.from_dict({"id": "j", "status": "QUEUED", "new_key": 1})
    assert unknown.status == "QUEUED" and not unknown.is_terminal


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"status": "PENDING"}, "'id'"),
        ({"id": "j", "status": "PENDING", "created_at": "yesterday"}, "yesterday"),
        (["not", "a", "dict"], "JSON object"),
    ],
)
def test_from_dict_names_what_is_wrong(data: Any, named: str) -> None:
    with pytest.raises(ResponseValidationError, match=named):
        ClassifyJob.from_dict(data)


async def test_served_jobs_round_trip_through_json(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    server.seed_jobs(150)
    jobs = [job async for job in client.list_jobs(page_size=100)]
    assert len(jobs) == 150
    lines = [json.dumps(job.to_dict()) for job in jobs]
    assert [ClassifyJob.from_dict(json.loads(line)) for line in lines] == jobs


# -- from_dict never escapes the hierarchy; frozen means frozen -------------------------------


def nested(depth: int) -> Any:
    """Arrays nested ``depth`` deep (built without recursion; the client's reader accepts 600)."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@settings(deadline=None, max_examples=30)
@given(
    depth=st.integers(min_value=1, max_value=5_000),
    where=st.sampled_from(["unknown", "result", "configuration", "usage"]),
)
def test_from_dict_reads_or_refuses_any_nesting_depth(depth: int, where: str) -> None:
    data = {"id": "j", "status": "COMPLETED", where: nested(depth)}
    if where == "unknown":
        assert ClassifyJob.from_dict(data).id == "j"
        return
    with pytest.raises(ResponseValidationError) as raised:
        ClassifyJob.from_dict(data)
    assert raised.value.field == where


@pytest.mark.parametrize(
    "odd",
    [
        MappingProxyType({"a": 1}),
        (item for item in [1, 2]),
        {1, 2},
        object(),
    ],
    ids=["mappingproxy", "generator", "set", "object"],
)
def test_from_dict_takes_values_no_copy_could_take(odd: object) -> None:
    assert ClassifyJob.from_dict({"id": "j", "status": "COMPLETED", "new_key": odd}).id == "j"
    with pytest.raises(ResponseValidationError, match="rules") as raised:
        ClassifyConfiguration.from_dict({"rules": odd})
    assert raised.value.field == "rules"


def test_from_dict_never_splits_a_string_of_webhook_events() -> None:
    with pytest.raises(ResponseValidationError, match="array of strings") as raised:
        WebhookConfiguration.from_dict({"webhook_events": "classify.success"})
    assert raised.value.field == "webhook_events"
    with pytest.raises(TypeError, match="webhook_events"):
        WebhookConfiguration(webhook_events="classify.success")  # type: ignore[arg-type]
    read = WebhookConfiguration.from_dict({"webhook_events": ["classify.success"]})
    assert read.webhook_events == ("classify.success",)


def test_a_webhook_configuration_with_headers_is_hashable_and_its_headers_frozen() -> None:
    given_headers = {"Authorization": "Bearer x"}
    webhook = WebhookConfiguration(webhook_url="https://h.test", webhook_headers=given_headers)
    given_headers["Authorization"] = "changed"  # the caller's dict is not the record's
    assert webhook.webhook_headers == {"Authorization": "Bearer x"}
    same = WebhookConfiguration(
        webhook_url="https://h.test", webhook_headers={"Authorization": "Bearer x"}
    )
    assert hash(webhook) == hash(same)
    assert len({webhook, same}) == 1
    headers = webhook.webhook_headers
    assert headers is not None
    for change in (
        lambda: headers.__setitem__("X", "y"),
        lambda: headers.__delitem__("Authorization"),
        lambda: headers.update(X="y"),
        headers.clear,
        lambda: headers.pop("Authorization"),
        lambda: headers.setdefault("X", "y"),
        headers.popitem,
    ):
        with pytest.raises(TypeError, match="cannot be changed"):
            change()
    assert webhook.webhook_headers == {"Authorization": "Bearer x"}
    assert copy.deepcopy(webhook) == webhook
    assert pickle.loads(pickle.dumps(webhook)) == webhook
    assert json.loads(json.dumps(webhook.to_dict()))["webhook_headers"] == {
        "Authorization": "Bearer x"
    }


# -- records as JSON text: to_json ------------------------------------------------------------


def test_to_json_is_to_dict_as_compact_strict_json() -> None:
    text = EVERY_FIELD.to_json()
    assert json.loads(text) == EVERY_FIELD.to_dict()
    assert ClassifyJob.from_dict(json.loads(text)) == EVERY_FIELD
    assert ", " not in text and ": " not in text and text.isascii()
    page = Page((EVERY_FIELD,), None, 1)
    assert json.loads(page.to_json()) == page.to_dict()


def test_to_json_escapes_control_and_non_ascii_characters() -> None:
    job = ClassifyJob(id="cls-\x1b[31m", status="COMPLETED", error_message="naïve\u2028")
    text = job.to_json()
    assert "\x1b" not in text and "\u2028" not in text and text.isascii()
    assert ClassifyJob.from_dict(json.loads(text)) == job


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_to_json_never_writes_nan_or_infinity(number: float) -> None:
    result = ClassifyResult(type="invoice", confidence=number, reasoning="r")
    with pytest.raises(ValueError, match="JSON compliant"):
        result.to_json()
