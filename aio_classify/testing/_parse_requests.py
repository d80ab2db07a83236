"""Parsing requests into checked values, refusing bad ones with the service's FastAPI-style 422
details.

Each error is ``{"loc": [...], "msg": ..., "type": ...}``, with ``loc`` starting at ``"query"`` or
``"body"``, so a client's error handling sees what the real service would send.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import attrs
from multidict import MultiMapping

from ._store import Filters, epoch_us

STATUSES = ("PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")
#: Limits of the create request in the spec (``reference/classify-v2.openapi.json``, 2026-08).
MAX_FILE_INPUT = 200
MAX_TRANSACTION_ID = 255
MAX_WEBHOOK_CONFIGURATION_IDS = 4
#: ``parsing_configuration.lang`` when the request leaves it out.
DEFAULT_LANG = "en"
RULE_LIMITS = (("type", 1, 50), ("description", 10, 2000))
WEBHOOK_FIELDS = (
    "webhook_url",
    "webhook_headers",
    "webhook_events",
    "webhook_output_format",
    "webhook_signing_secret",
)
#: The spec's event names, plus ``verify.*``, which the official SDK 2.19 already knows.
WEBHOOK_EVENTS = frozenset(
    [
        f"{product}.{state}"
        for product, states in (
            ("extract", ("pending", "success", "error", "partial_success", "cancelled")),
            ("parse", ("pending", "running", "success", "error", "partial_success", "cancelled")),
            (
                "classify",
                ("pending", "running", "success", "error", "partial_success", "cancelled"),
            ),
            ("sheets", ("pending", "success", "error", "partial_success", "cancelled")),
            ("split", ("pending", "processing", "success", "error", "cancelled")),
            ("batch", ("pending", "running", "success", "error", "cancelled")),
            ("verify", ("pending", "running", "success", "error", "cancelled")),
        )
        for state in states
    ]
    + ["unmapped_event"]
)
Loc = tuple[str | int, ...]


class Invalid(Exception):
    """Raised with the list of errors to send as the 422 ``detail``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def error(loc: Loc, msg: str, kind: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": kind}


def _datetime_us(value: str, loc: Loc, errors: list[dict[str, Any]]) -> int | None:
    try:
        return epoch_us(value)
    except ValueError:
        errors.append(error(loc, "Input should be a valid datetime", "datetime_parsing"))
        return None


def canonical_uuid(value: str) -> str | None:
    """``value`` as a lowercase hyphenated UUID, or None when it is not one in that layout
    (8-4-4-4-12 hex digits, as JSON Schema's ``uuid`` format has it; any case)."""
    try:
        parsed = str(uuid.UUID(value))
    except ValueError:
        return None
    return parsed if parsed == value.lower() else None


def _scope(query: MultiMapping[str], errors: list[dict[str, Any]]) -> dict[str, str | None]:
    scope: dict[str, str | None] = {}
    for name in ("project_id", "organization_id"):
        value = query.get(name)
        scope[name] = None if value is None else canonical_uuid(value)
        if value is not None and scope[name] is None:
            msg = "Input should be a valid UUID, invalid character or length"
            errors.append(error(("query", name), msg, "uuid_parsing"))
    return scope


def parse_scope(query: MultiMapping[str]) -> tuple[str | None, str | None]:
    """``(project_id, organization_id)`` of any request, canonical; both must be UUIDs."""
    errors: list[dict[str, Any]] = []
    checked = _scope(query, errors)
    if errors:
        raise Invalid(errors)
    return checked["project_id"], checked["organization_id"]


def parse_list_query(query: MultiMapping[str]) -> tuple[Filters, int, str | None]:
    """Filters, page size and page token of a list request."""
    errors: list[dict[str, Any]] = []
    checked_scope = _scope(query, errors)
    status = query.get("status")
    if status is not None and status not in STATUSES:
        choices = ", ".join(f"'{s}'" for s in STATUSES)
        errors.append(error(("query", "status"), f"Input should be {choices}", "enum"))
    page_size = 50
    if "page_size" in query:
        loc = ("query", "page_size")
        try:
            page_size = int(query["page_size"])
        except ValueError:
            errors.append(error(loc, "Input should be a valid integer", "int_parsing"))
        else:
            if page_size < 1:
                errors.append(
                    error(loc, "Input should be greater than or equal to 1", "greater_than_equal")
                )
            elif page_size > 100:
                errors.append(
                    error(loc, "Input should be less than or equal to 100", "less_than_equal")
                )
    bounds = {}
    for name in ("created_at_on_or_after", "created_at_on_or_before"):
        value = query.get(name)
        bounds[name] = None if value is None else _datetime_us(value, ("query", name), errors)
    if errors:
        raise Invalid(errors)
    filters = Filters(
        status=status,
        configuration_id=query.get("configuration_id"),
        job_ids=tuple(query.getall("job_ids")) if "job_ids" in query else None,
        after_us=bounds["created_at_on_or_after"],
        before_us=bounds["created_at_on_or_before"],
        project_id=checked_scope["project_id"],
        organization_id=checked_scope["organization_id"],
    )
    return filters, page_size, query.get("page_token") or None  # empty: the first page


def _text(value: object, loc: Loc, lo: int, hi: int | None, errors: list[dict[str, Any]]) -> None:
    if not isinstance(value, str):
        errors.append(error(loc, "Input should be a valid string", "string_type"))
    elif len(value) < lo:
        errors.append(
            error(loc, f"String should have at least {lo} characters", "string_too_short")
        )
    elif hi is not None and len(value) > hi:
        errors.append(error(loc, f"String should have at most {hi} characters", "string_too_long"))


def _configuration(config: object, errors: list[dict[str, Any]]) -> None:
    loc: Loc = ("body", "configuration")
    if not isinstance(config, Mapping):
        errors.append(error(loc, "Input should be a valid dictionary", "dict_type"))
        return
    rules = config.get("rules")
    if not isinstance(rules, list):
        kind = "missing" if rules is None else "list_type"
        msg = "Field required" if rules is None else "Input should be a valid list"
        errors.append(error((*loc, "rules"), msg, kind))
    elif not rules:
        msg = "List should have at least 1 item after validation, not 0"
        errors.append(error((*loc, "rules"), msg, "too_short"))
    else:
        for i, rule in enumerate(rules):
            if not isinstance(rule, Mapping):
                errors.append(
                    error((*loc, "rules", i), "Input should be a valid dictionary", "dict_type")
                )
                continue
            for field, lo, hi in RULE_LIMITS:
                if field not in rule:
                    errors.append(error((*loc, "rules", i, field), "Field required", "missing"))
                else:
                    _text(rule[field], (*loc, "rules", i, field), lo, hi, errors)
    if "mode" in config and config["mode"] != "FAST":
        errors.append(error((*loc, "mode"), "Input should be 'FAST'", "literal_error"))
    parsing = config.get("parsing_configuration")
    if parsing is not None:
        ploc = (*loc, "parsing_configuration")
        if not isinstance(parsing, Mapping):
            errors.append(error(ploc, "Input should be a valid dictionary", "dict_type"))
            return
        for name, nullable in (("lang", False), ("target_pages", True)):
            value = parsing.get(name)
            if name in parsing and not isinstance(value, str) and not (nullable and value is None):
                msg = "Input should be a valid string"
                errors.append(error((*ploc, name), msg, "string_type"))
        max_pages = parsing.get("max_pages")
        if max_pages is not None and (
            not isinstance(max_pages, int) or isinstance(max_pages, bool)
        ):
            errors.append(
                error((*ploc, "max_pages"), "Input should be a valid integer", "int_type")
            )
        elif max_pages is not None and max_pages < 1:
            msg = "Input should be greater than or equal to 1"
            errors.append(error((*ploc, "max_pages"), msg, "greater_than_equal"))


@attrs.frozen
class CreateRequest:
    """A valid ``POST /api/v2/classify`` body, normalized as the service stores it."""

    file_input: str
    configuration: dict[str, Any] | None
    configuration_id: str | None
    transaction_id: str | None
    webhook_configuration_ids: tuple[str, ...] = ()
    #: Inline endpoints, each with all five fields (absent ones None), as given.
    webhook_configurations: tuple[dict[str, Any], ...] = ()


def parse_create_body(body: object) -> CreateRequest:
    """The create request in ``body``, or ``Invalid`` with every error found."""
    if not isinstance(body, Mapping):
        raise Invalid([error(("body",), "Input should be a valid dictionary", "dict_type")])
    errors: list[dict[str, Any]] = []
    for name, limit in (("file_input", MAX_FILE_INPUT), ("file_id", None), ("parse_job_id", None)):
        if body.get(name) is not None:
            _text(body[name], ("body", name), 0, limit, errors)
    # ``file_id`` and ``parse_job_id`` are the deprecated spellings of ``file_input``.
    file_input = body.get("file_input") or body.get("file_id") or body.get("parse_job_id")
    if not file_input:
        errors.append(error(("body", "file_input"), "Field required", "missing"))
    config, config_id = body.get("configuration"), body.get("configuration_id")
    if (config is None) == (config_id is None):
        msg = "Value error, exactly one of configuration or configuration_id is required"
        errors.append(error(("body",), msg, "value_error"))
    elif config is not None:
        _configuration(config, errors)
    else:
        _text(config_id, ("body", "configuration_id"), 0, None, errors)
    transaction_id = body.get("transaction_id")
    if transaction_id is not None:
        _text(transaction_id, ("body", "transaction_id"), 0, MAX_TRANSACTION_ID, errors)
    webhook_ids = _webhook_ids(body.get("webhook_configuration_ids"), errors)
    webhooks = _webhooks(body.get("webhook_configurations"), errors)
    if errors:
        raise Invalid(errors)
    return CreateRequest(
        file_input=str(file_input),
        configuration=None if config is None else _normalized(config),
        configuration_id=config_id,
        transaction_id=transaction_id,
        webhook_configuration_ids=webhook_ids,
        webhook_configurations=webhooks,
    )


def _optional_list(value: object, loc: Loc, errors: list[dict[str, Any]]) -> list[Any]:
    """A field that may be null or a list: its items (none for null); anything else is an error
    and no items."""
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(error(loc, "Input should be a valid list", "list_type"))
        return []
    return value


def _webhook_ids(value: object, errors: list[dict[str, Any]]) -> tuple[str, ...]:
    loc: Loc = ("body", "webhook_configuration_ids")
    ids = _optional_list(value, loc, errors)
    for index, item in enumerate(ids):
        if not isinstance(item, str):
            errors.append(error((*loc, index), "Input should be a valid string", "string_type"))
    if len(ids) > MAX_WEBHOOK_CONFIGURATION_IDS:
        msg = (
            f"List should have at most {MAX_WEBHOOK_CONFIGURATION_IDS} items after "
            f"validation, not {len(ids)}"
        )
        errors.append(error(loc, msg, "too_long"))
    return tuple(ids)


def _webhooks(value: object, errors: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Inline webhook configurations as the spec's ``WebhookConfiguration`` schema has them
    (every field optional or null; unknown keys ignored, as the service's models do)."""
    loc: Loc = ("body", "webhook_configurations")
    webhooks = []
    for index, item in enumerate(_optional_list(value, loc, errors)):
        item_loc = (*loc, index)
        if not isinstance(item, Mapping):
            errors.append(error(item_loc, "Input should be a valid dictionary", "dict_type"))
            continue
        for field in ("webhook_url", "webhook_output_format", "webhook_signing_secret"):
            if item.get(field) is not None:
                _text(item[field], (*item_loc, field), 0, None, errors)
        headers = item.get("webhook_headers")
        if headers is not None and not (
            isinstance(headers, Mapping) and all(isinstance(v, str) for v in headers.values())
        ):
            errors.append(
                error(
                    (*item_loc, "webhook_headers"),
                    "Input should be a valid dictionary of strings",
                    "dict_type",
                )
            )
        _webhook_events(item.get("webhook_events"), (*item_loc, "webhook_events"), errors)
        webhooks.append({field: item.get(field) for field in WEBHOOK_FIELDS})
    return tuple(webhooks)


def _webhook_events(value: object, loc: Loc, errors: list[dict[str, Any]]) -> None:
    for index, event in enumerate(_optional_list(value, loc, errors)):
        if not isinstance(event, str) or event not in WEBHOOK_EVENTS:
            errors.append(error((*loc, index), "Input should be a known event type", "enum"))


def _normalized(config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration as the service echoes it: every field present."""
    parsing = config.get("parsing_configuration")
    return {
        "rules": [{"type": r["type"], "description": r["description"]} for r in config["rules"]],
        "mode": config.get("mode") or "FAST",
        "parsing_configuration": None
        if parsing is None
        else {
            "lang": parsing.get("lang", DEFAULT_LANG),
            "max_pages": parsing.get("max_pages"),
            "target_pages": parsing.get("target_pages"),
        },
    }
