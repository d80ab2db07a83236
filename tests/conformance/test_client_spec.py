"""The client refuses nothing the current spec allows and sends everything it offers.

Cases are generated from the spec file itself (schemathesis' positive data, fixed seed), then
handed to the client's methods; a tiny loopback server records what arrives, and it must be
what was generated. The spec is narrowed only where the client's contract (API.md) is
deliberately narrower, each for its reason:

- create takes ``file_input`` and exactly one of ``configuration`` / ``configuration_id`` (the
  operation's description requires both; ``file_id`` / ``parse_job_id`` are deprecated spellings
  the client does not offer);
- ids, tokens and inputs are never empty strings (an empty id names nothing);
- objects carry only the spec's keys (unknown keys mean nothing to the service; the client drops
  them from configurations and refuses them in webhook configurations, where a misspelt
  ``webhook_signing_secret`` would otherwise turn signing off unnoticed).
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import attrs
import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings

from aio_classify import ClassifyClient

SPEC = json.loads(Path(__file__).with_name("classify-v2.openapi.json").read_text())
JOB = {
    "id": "cls-1",
    "status": "PENDING",
    "file_input": "dfl-1",
    "project_id": "p",
    "user_id": "u",
    "document_input_type": "file_id",
    "configuration": {"rules": [{"type": "a", "description": "0123456789"}]},
}
EXAMPLES = 150


def _narrowed_spec() -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    schemas = spec["components"]["schemas"]
    for name in ("ClassifyV2Configuration", "ClassifyV2Rule", "ClassifyV2ParsingConfiguration"):
        schemas[name]["additionalProperties"] = False
    schemas["WebhookConfiguration"]["additionalProperties"] = False
    create = schemas["ClassifyV2JobCreateRequest"]
    properties = create["properties"]
    del properties["file_id"], properties["parse_job_id"]
    properties["file_input"] = {**properties["file_input"]["anyOf"][0], "minLength": 1}
    properties["transaction_id"]["anyOf"][0]["minLength"] = 1
    properties["webhook_configuration_ids"]["anyOf"][0]["items"]["minLength"] = 1
    properties["configuration_id"]["anyOf"][0]["minLength"] = 1
    create["required"] = ["file_input"]
    create["additionalProperties"] = False
    configuration = {"$ref": "#/components/schemas/ClassifyV2Configuration"}
    identifier = {"type": "string", "minLength": 1}
    null = {"type": "null"}
    create["oneOf"] = [  # exactly one kind of configuration
        {
            "required": ["configuration"],
            "properties": {"configuration": configuration, "configuration_id": null},
        },
        {
            "required": ["configuration_id"],
            "properties": {"configuration_id": identifier, "configuration": null},
        },
    ]
    for parameter in spec["paths"]["/api/v2/classify"]["get"]["parameters"]:
        if parameter["name"] == "page_token":
            parameter["schema"]["anyOf"][0]["minLength"] = 1
        if parameter["name"] == "job_ids":
            parameter["schema"]["anyOf"][0]["items"]["minLength"] = 1
    return spec


SCHEMA = schemathesis.openapi.from_dict(_narrowed_spec())


def generated(method: str, path: str) -> list[schemathesis.Case]:
    cases: list[schemathesis.Case] = []

    @settings(
        max_examples=EXAMPLES,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(SCHEMA[path][method].as_strategy())
    def collect(case: schemathesis.Case) -> None:
        cases.append(case)

    collect()
    return cases


def without_nulls(value: Any) -> Any:
    """Null and absent mean the same for every optional field of this spec."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [without_nulls(v) for v in value]
    return value


@attrs.define
class Received:
    method: str
    job_id: str | None
    query: list[tuple[str, str]]
    body: Any


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[str, list[Received]]]:
    """A loopback server that records each request and answers a valid job (or page)."""
    seen: list[Received] = []

    async def answer(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        seen.append(
            Received(
                request.method,
                request.match_info.get("job_id"),
                list(request.query.items()),
                body,
            )
        )
        listing = request.method == "GET" and "job_id" not in request.match_info
        return web.json_response({"items": [JOB], "next_page_token": None} if listing else JOB)

    app = web.Application()
    app.router.add_route("*", "/api/v2/classify", answer)
    app.router.add_route("*", "/api/v2/classify/{job_id}", answer)
    app.router.add_route("*", "/api/v2/classify/{job_id}/cancel", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen
    finally:
        await runner.cleanup()


def scope(case: schemathesis.Case) -> dict[str, Any]:
    query = case.query or {}
    return {"project_id": query.get("project_id"), "organization_id": query.get("organization_id")}


def sent_scope(received: Received) -> dict[str, str]:
    return {k: v for k, v in received.query if k in ("project_id", "organization_id")}


async def test_create_sends_every_field_the_spec_allows(
    recorder: tuple[str, list[Received]],
) -> None:
    url, seen = recorder
    cases = generated("POST", "/api/v2/classify")
    async with ClassifyClient("key", base_url=url) as client:
        for case in cases:
            body = case.body
            await client.create_job(
                body["file_input"],
                body.get("configuration"),
                body.get("configuration_id"),
                body.get("transaction_id"),
                body.get("webhook_configuration_ids"),
                webhook_configurations=body.get("webhook_configurations"),
                **scope(case),
            )
            sent = seen[-1].body
            expected = without_nulls(body)
            if "transaction_id" not in expected:  # the client makes one
                expected["transaction_id"] = sent["transaction_id"]
            assert without_nulls(sent) == expected
            assert sent_scope(seen[-1]) == without_nulls(scope(case))
    assert len(seen) == len(cases) >= EXAMPLES // 2
    assert any(len((c.body.get("configuration") or {}).get("rules", [])) > 1 for c in cases)
    assert any(c.body.get("webhook_configurations") for c in cases)


async def test_list_sends_every_filter_the_spec_allows(
    recorder: tuple[str, list[Received]],
) -> None:
    url, seen = recorder
    cases = generated("GET", "/api/v2/classify")
    async with ClassifyClient("key", base_url=url) as client:
        for case in cases:
            query = dict(case.query or {})
            before = len(seen)
            await client.list_jobs(**query).first_page()
            if query.get("job_ids") == []:  # "these zero jobs": the contract asks nothing
                assert len(seen) == before
                continue
            sent: dict[str, list[str]] = {}
            for key, value in seen[-1].query:
                sent.setdefault(key, []).append(value)
            for key, value in without_nulls(query).items():
                values = value if isinstance(value, list) else [value]
                if key.startswith("created_at"):
                    assert [datetime.fromisoformat(v) for v in sent.pop(key)] == [
                        datetime.fromisoformat(v) for v in values
                    ]
                else:
                    assert sent.pop(key) == [str(v) for v in values], key
            assert sent == {}
    assert len(cases) >= EXAMPLES // 2


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v2/classify/{job_id}"), ("POST", "/api/v2/classify/{job_id}/cancel")],
)
async def test_job_calls_send_any_id_the_spec_allows(
    recorder: tuple[str, list[Received]], method: str, path: str
) -> None:
    url, seen = recorder
    cases = generated(method, path)
    async with ClassifyClient("key", base_url=url) as client:
        call = client.get_job if method == "GET" else client.cancel_job
        for case in cases:
            job_id = unquote(case.path_parameters["job_id"])
            await call(job_id, **scope(case))
            assert seen[-1].job_id == job_id
            assert seen[-1].method == method
            assert sent_scope(seen[-1]) == without_nulls(scope(case))
    assert len({seen_one.job_id for seen_one in seen}) > 10


def _limits() -> dict[str, Any]:
    """The create request's bounds, read from the spec file."""
    schemas = SPEC["components"]["schemas"]
    create = schemas["ClassifyV2JobCreateRequest"]["properties"]
    rule = schemas["ClassifyV2Rule"]["properties"]
    parsing = schemas["ClassifyV2ParsingConfiguration"]["properties"]
    return {
        "type": (rule["type"]["minLength"], rule["type"]["maxLength"]),
        "description": (rule["description"]["minLength"], rule["description"]["maxLength"]),
        "file_input": create["file_input"]["anyOf"][0]["maxLength"],
        "transaction_id": create["transaction_id"]["anyOf"][0]["maxLength"],
        "webhook_configuration_ids": create["webhook_configuration_ids"]["anyOf"][0]["maxItems"],
        "max_pages": int(parsing["max_pages"]["anyOf"][0]["minimum"]),
    }


async def test_every_bound_of_the_spec_is_accepted_and_one_past_it_refused(
    recorder: tuple[str, list[Received]],
) -> None:
    url, seen = recorder
    limits = _limits()
    assert limits["description"] == (10, 2000)  # the 2026-07 limit; the 2026-03 page said 500
    (type_low, type_high), (text_low, text_high) = limits["type"], limits["description"]
    rules = [
        {"type": "t" * type_low, "description": "d" * text_low},
        {"type": "t" * type_high, "description": "d" * text_high},
    ]
    configuration = {"rules": rules, "parsing_configuration": {"max_pages": limits["max_pages"]}}
    at_bounds = {
        "file_input": "f" * limits["file_input"],
        "configuration": configuration,
        "transaction_id": "x" * limits["transaction_id"],
        "webhook_configuration_ids": [
            f"whc-{i}" for i in range(limits["webhook_configuration_ids"])
        ],
    }
    async with ClassifyClient("key", base_url=url) as client:
        await client.create_job(**at_bounds)
        assert seen[-1].body == at_bounds
        past = {
            "file_input": "f" * (limits["file_input"] + 1),
            "transaction_id": "x" * (limits["transaction_id"] + 1),
            "webhook_configuration_ids": ["whc"] * (limits["webhook_configuration_ids"] + 1),
            "configuration": {
                "rules": [{"type": "t", "description": "d" * (text_high + 1)}],
                "parsing_configuration": {"max_pages": limits["max_pages"] - 1},
            },
        }
        for name, value in past.items():
            with pytest.raises(
                ValueError, match=name if name != "configuration" else "description"
            ):
                await client.create_job(**{**at_bounds, name: value})
    assert len(seen) == 1
