"""Every answer the fake gives, through every job state and error case, validated against the
spec's schemas (jsonschema) and parsed by the official SDK 2.19's models.

Statuses the spec does not document (401, 404, 405, 409, 429, 5xx) are held to the one error
shape every answer of the service has, ``{"detail": ...}``; DELETE, which the spec cut leaves
out, is held to the SDK's ``ClassifyDeleteResponse``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
from llama_cloud.types import (
    ClassifyCancelResponse,
    ClassifyCreateResponse,
    ClassifyDeleteResponse,
    ClassifyGetResponse,
    ClassifyListResponse,
)
from pydantic import BaseModel

from aio_classify.testing import FakeClassifyServer

SPEC = json.loads((Path(__file__).with_name("classify-v2.openapi.json")).read_text())
LIST = "/api/v2/classify"
RULES = [{"type": "invoice", "description": "Has an invoice number and an amount due."}]
OTHER_PROJECT = "0e0e0e0e-0000-4000-8000-000000000000"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
FORMATS = jsonschema.FormatChecker()
FORMATS.checks("date-time")(lambda value: not isinstance(value, str) or bool(RFC3339.match(value)))
#: Not in the spec: the body of every error it leaves undocumented.
ERROR_SCHEMA = {"type": "object", "required": ["detail"], "properties": {"detail": {}}}
SDK_MODELS: dict[str, type[BaseModel]] = {
    "GET /api/v2/classify/{job_id}": ClassifyGetResponse,
    "POST /api/v2/classify": ClassifyCreateResponse,
    "POST /api/v2/classify/{job_id}/cancel": ClassifyCancelResponse,
    "DELETE /api/v2/classify/{job_id}": ClassifyDeleteResponse,
}


def response_schema(operation: str, status: int) -> dict[str, Any]:
    method, path = operation.split(" ")
    documented = SPEC["paths"].get(path, {}).get(method.lower(), {}).get("responses", {})
    if str(status) not in documented:
        return ERROR_SCHEMA if status >= 400 else {}
    schema = documented[str(status)]["content"]["application/json"]["schema"]
    return {**schema, "components": SPEC["components"]}


def sdk_parse(operation: str, status: int, body: Any) -> None:
    """The SDK's model for the answer, with nothing the model does not know."""
    if status >= 400:
        return
    if operation == "GET /api/v2/classify":
        models = [ClassifyListResponse.model_validate(item) for item in body["items"]]
    else:
        models = [SDK_MODELS[operation].model_validate(body)]
    for model in models:
        assert not model.model_extra, (
            f"{operation}: keys the SDK does not know: {model.model_extra}"
        )


class Recorder:
    """Sends requests to the fake and checks each answer; remembers what it has seen."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.seen: set[tuple[str, int]] = set()
        self.job_statuses: set[str] = set()

    async def call(self, operation: str, expected: int, *, job_id: str = "", **kwargs: Any) -> Any:
        method, route = operation.split(" ")
        path = route.replace("{job_id}", job_id)
        async with self.http.request(method, path, **kwargs) as resp:
            assert resp.status == expected, await resp.text()
            assert resp.content_type == "application/json"
            body = await resp.json()
        jsonschema.validate(body, response_schema(operation, resp.status), format_checker=FORMATS)
        sdk_parse(operation, resp.status, body)
        self.seen.add((operation, resp.status))
        for job in body.get("items", [body]) if isinstance(body, dict) else ():
            if isinstance(job, dict) and "status" in job:
                self.job_statuses.add(job["status"])
        return body


@pytest.fixture
def calls(http: aiohttp.ClientSession) -> Recorder:
    return Recorder(http)


GET = "GET /api/v2/classify/{job_id}"
CREATE = "POST /api/v2/classify"
LISTING = "GET /api/v2/classify"
CANCEL = "POST /api/v2/classify/{job_id}/cancel"
DELETE = "DELETE /api/v2/classify/{job_id}"


async def test_every_state_of_every_job(server: FakeClassifyServer, calls: Recorder) -> None:
    await calls.call(LISTING, 200)  # empty
    for status in ("PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"):
        (job_id,) = server.seed_jobs(1, statuses=status)
        await calls.call(GET, 200, job_id=job_id)
        await calls.call(GET, 200, job_id=job_id, params={"expand": "usage"})
        await calls.call(GET, 200, job_id=job_id, params={"project_id": server.project_id})
    server.seed_jobs(120)
    page = await calls.call(LISTING, 200, params={"page_size": 50})
    await calls.call(LISTING, 200, params={"page_token": page["next_page_token"], "page_size": 50})
    await calls.call(LISTING, 200, params={"status": "FAILED", "project_id": server.project_id})
    await calls.call(LISTING, 200, params=[("job_ids", job["id"]) for job in page["items"][:3]])
    assert calls.job_statuses == {"PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"}


async def test_created_jobs_through_their_lifecycle(
    server: FakeClassifyServer, calls: Recorder
) -> None:
    full = {
        "file_input": "https://files.example/invoice-1.pdf",
        "configuration": {
            "rules": RULES,
            "mode": "FAST",
            "parsing_configuration": {"lang": "de", "max_pages": 2, "target_pages": "1-2"},
        },
        "transaction_id": "t" * 255,
        "webhook_configuration_ids": ["whc-1", "whc-2", "whc-3", "whc-4"],
        "webhook_configurations": [
            {
                "webhook_url": "https://hooks.example/a",
                "webhook_headers": {"Authorization": "Bearer x"},
                "webhook_events": ["classify.success", "classify.error"],
                "webhook_output_format": "json",
                "webhook_signing_secret": "whsec_1",
            }
        ],
    }
    minimal = {"file_input": "dfl-receipt.pdf", "configuration": {"rules": RULES}}
    by_id = {"file_input": "pjb-42", "configuration_id": "cfg-1"}
    deprecated = {
        "file_id": "dfl-old.pdf",
        "configuration": {"rules": RULES, "parsing_configuration": {"max_pages": 1}},
    }
    ids = []
    for body in (full, minimal, by_id, deprecated):
        ids.append((await calls.call(CREATE, 200, json=body))["id"])
    again = await calls.call(CREATE, 200, json=full)
    assert again["id"] == ids[0]
    await calls.call(CREATE, 200, json=minimal, params={"project_id": OTHER_PROJECT})
    running, completed, failed, cancelled = ids
    server.set_status(running, "RUNNING")
    server.complete(completed)
    server.fail(failed)
    for job_id in ids[:3]:
        await calls.call(GET, 200, job_id=job_id, params={"expand": "usage"})
    await calls.call(CANCEL, 200, job_id=cancelled)
    await calls.call(CANCEL, 200, job_id=running)
    await calls.call(CANCEL, 409, job_id=completed)
    await calls.call(DELETE, 409, job_id=server.add_job(status="RUNNING")["id"])
    await calls.call(DELETE, 200, job_id=failed)
    await calls.call(DELETE, 200, job_id=completed, params={"project_id": server.project_id})
    assert calls.job_statuses == {"PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"}


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        (LISTING, {"params": {"page_size": "0"}}),
        (LISTING, {"params": {"status": "DONE"}}),
        (LISTING, {"params": {"created_at_on_or_after": "yesterday"}}),
        (LISTING, {"params": {"page_token": "not-a-token"}}),
        (LISTING, {"params": {"project_id": "prj-1"}}),
        (GET, {"params": {"organization_id": "org-1"}}),
        (CANCEL, {"params": {"project_id": "prj-1"}}),
        (DELETE, {"params": {"project_id": "prj-1"}}),
        (CREATE, {"json": {"file_input": "dfl-1", "configuration": {"rules": []}}}),
        (CREATE, {"json": {"file_input": "d" * 201, "configuration_id": "cfg-1"}}),
        (CREATE, {"json": {"file_input": "dfl-1", "configuration_id": "c", "transaction_id": 1}}),
        (CREATE, {"json": [1, 2]}),
        (CREATE, {"data": b"{not json", "headers": {"Content-Type": "application/json"}}),
    ],
)
async def test_every_422(calls: Recorder, operation: str, kwargs: dict[str, Any]) -> None:
    await calls.call(operation, 422, job_id="cls-1", **kwargs)


async def test_every_other_error(server: FakeClassifyServer, calls: Recorder) -> None:
    (job_id,) = server.seed_jobs(1, statuses="RUNNING")
    for operation in (GET, CANCEL, DELETE):
        await calls.call(operation, 404, job_id="cls-unknown")
        await calls.call(operation, 404, job_id=job_id, params={"project_id": OTHER_PROJECT})
    for operation in (LISTING, GET, CREATE, CANCEL, DELETE):
        await calls.call(operation, 401, job_id=job_id, headers={"Authorization": "Bearer no"})
    await calls.call("GET /api/v2/nowhere", 404)
    await calls.call("PUT /api/v2/classify", 405)
    server.fail_next(429, headers={"Retry-After": "1"})
    await calls.call(LISTING, 429)
    server.fail_next(503)
    await calls.call(GET, 503, job_id=job_id)
    assert {status for _, status in calls.seen} == {401, 404, 405, 429, 503}
