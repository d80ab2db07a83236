"""The one cattrs converter that owns every JSON shape the client reads or writes.

Strict on what we send (``unstructure`` drops unset fields), tolerant on what we read: unknown
keys are ignored, unknown enum values stay plain strings, and both spellings of the input field
are accepted. Tolerant is not lax: a value of the wrong JSON type is refused, never coerced (an
``id`` of ``null`` or ``12345`` is an error, not the string ``"None"``), and whatever goes wrong
while reading a response is a ``ResponseValidationError`` naming the field. Every model's
``to_dict`` / ``from_dict`` comes here too (``record_to_dict``, ``record_from_dict``).

Response bodies are read by ``read_page`` / ``read_job`` from their raw bytes: the msgspec fast
path (``fast_decode``) first, built from the same models and the same date and input-field rules;
any body it refuses goes through the exact path here (``json_body`` + cattrs), which owns every
error message. The two give identical records (tests/test_fast_decode.py).
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

import attrs
import cattrs
import msgspec
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

from .._core.dates import parse_iso_datetime, to_utc
from .._core.errors import ClassifyError, ResponseValidationError
from .._core.models import (
    ClassifyConfiguration,
    ClassifyJob,
    ClassifyMode,
    ClassifyResult,
    ClassifyRule,
    JobStatus,
    Page,
    ParsingConfiguration,
    Record,
    Usage,
    WebhookConfiguration,
    install_dict_mapping,
)
from .._core.sanitize import shorten
from .fast_decode import FastDecoder, ShapeChecker
from .strict_json import json_body

__all__ = [
    "check_page",
    "converter",
    "create_body",
    "is_text",
    "read_checked_job",
    "read_job",
    "read_page",
    "record_from_dict",
    "record_to_dict",
    "structure_configuration",
    "structure_job",
    "structure_page",
    "structure_webhook_configuration",
]

_T = TypeVar("_T")

converter = cattrs.Converter(detailed_validation=False)


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return to_utc(value)
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {_kind(value)}")
    return parse_iso_datetime(value)


converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(datetime, lambda value: to_utc(value).isoformat())


def _kind(value: Any) -> str:
    """A JSON value's type, as a message names it."""
    names = {type(None): "null", bool: "a boolean", str: "a string", dict: "an object"}
    if type(value) in names:
        return names[type(value)]
    if isinstance(value, list):
        return "an array"
    return "a number" if type(value) in {int, float} else f"a {type(value).__name__}"


def is_text(value: str) -> bool:
    """False for a string with a lone surrogate (JSON can say ``"\\ud800"``): it could never
    be sent back in a URL, and would fail there with a ``UnicodeEncodeError``."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# The JSON scalars, checked but never converted: JSON already decoded them, and a value of
# another type is refused rather than coerced (``bool`` is not a number here). ``type(x) is``
# keeps the common case to one comparison: these run for every field of every job.


def _text(value: Any, _: Any = None) -> str:
    if type(value) is str or isinstance(value, str):
        if value.isascii() or is_text(value):
            return value
        raise ValueError("not valid Unicode text (a lone surrogate)")
    raise _wrong(value, "a string")


def _optional_text(value: Any, _: Any = None) -> str | None:
    return None if value is None else _text(value)


def _optional_int(value: Any, _: Any = None) -> int | None:
    if value is None or type(value) is int:
        return value
    raise _wrong(value, "an integer")


def _optional_number(value: Any, _: Any = None) -> float | None:
    """A JSON number; ``json.loads`` reads one beyond double range (``1e999``) as an infinity,
    which is not JSON, so it is refused like any value of the wrong type (as msgspec does)."""
    if value is None or type(value) is int:
        return value
    if type(value) is float:
        if math.isfinite(value):
            return value
        raise TypeError(f"expected a finite number, got {value!r}")
    raise _wrong(value, "a number")


def _wrong(value: Any, expected: str) -> TypeError:
    return TypeError(f"expected {expected}, got {_kind(value)}")


converter.register_structure_hook(str, _text)
converter.register_structure_hook(str | None, _optional_text)
converter.register_structure_hook(int | None, _optional_int)
converter.register_structure_hook(float | None, _optional_number)


def _keep_unknown(enum: type[StrEnum]) -> None:
    """Known values become members; any other string is kept as it came, never an error."""
    members: dict[str, StrEnum] = {member.value: member for member in enum}

    def structure(value: Any, _: Any) -> StrEnum | str:
        if not isinstance(value, str):
            raise TypeError(f"expected a string for {enum.__name__}, got {_kind(value)}")
        return members.get(value, value)

    converter.register_structure_hook(enum | str, structure)
    _optional(enum | str, structure)
    # Out as the plain string, so the unstructured record holds only JSON's own types.
    converter.register_unstructure_hook(enum | str, _plain_str)
    converter.register_unstructure_hook(enum | str | None, _plain_str)


def _plain_str(value: StrEnum | str | None) -> str | None:
    return None if value is None else str.__str__(value)


def _optional(type_: Any, hook: Any) -> None:
    """``X | None`` without cattrs' generic union dispatch, which dominates the per-job cost."""

    def structure(value: Any, _: Any) -> Any:
        return None if value is None else hook(value, type_)

    converter.register_structure_hook(type_ | None, structure)


def _tuple_of(cls: type[_T]) -> None:
    """JSON arrays of records become tuples (frozen records hold no mutable lists)."""
    item_hook = converter.get_structure_hook(cls)

    def structure(values: Any, _: Any) -> tuple[_T, ...]:
        if not isinstance(values, list | tuple):
            raise TypeError(f"expected an array, got {_kind(values)}")
        return tuple([item_hook(value, cls) for value in values])

    converter.register_structure_hook_func(lambda type_: type_ == tuple[cls, ...], structure)  # type: ignore[valid-type]


def _object(cls: type[_T]) -> None:
    """A record only from a JSON object: cattrs would build one of defaults from a list."""
    fields_hook = converter.get_structure_hook(cls)

    def structure(value: Any, _: Any) -> _T:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {_kind(value)}")
        return fields_hook(value, cls)  # type: ignore[no-any-return]

    converter.register_structure_hook(cls, structure)


def _records(*classes: type[Any]) -> None:
    for cls in classes:
        _object(cls)
        _optional(cls, converter.get_structure_hook(cls))


_keep_unknown(JobStatus)
_keep_unknown(ClassifyMode)
_object(ClassifyRule)
_tuple_of(ClassifyRule)
_records(ParsingConfiguration, ClassifyConfiguration, ClassifyResult, Usage)
_optional(datetime, _structure_datetime)

for _cls in (ClassifyRule, ParsingConfiguration, ClassifyConfiguration, WebhookConfiguration):
    converter.register_unstructure_hook(
        _cls, make_dict_unstructure_fn(_cls, converter, _cattrs_omit_if_default=True)
    )

_structure_job_fields = make_dict_structure_fn(ClassifyJob, converter)

_INPUT_FIELDS = ("file_input", "document_input_value")
"""The live service's and the documented name of one field: each is filled from the other."""


def _structure_job(data: Any, _: type) -> ClassifyJob:
    if not isinstance(data, dict):
        raise TypeError(f"expected an object, got {_kind(data)}")
    first, second = _INPUT_FIELDS  # filled in a copy: the caller's dict is never changed
    if data.get(first) is None:
        if data.get(second) is not None:
            data = {**data, first: data[second]}
    elif data.get(second) is None:
        data = {**data, second: data[first]}
    return _structure_job_fields(data, ClassifyJob)


converter.register_structure_hook(ClassifyJob, _structure_job)
_tuple_of(ClassifyJob)


def _structure(data: Any, cls: type[_T], what: str) -> _T:
    """``data`` as ``cls``, or a ``ResponseValidationError`` (no chain) naming the field.

    Nothing else escapes: whatever a hook raises on hostile input (even ``RecursionError``) is
    caught here, and the bad field is then found by ``_find_bad_field``, on the error path only.
    """
    if not isinstance(data, dict):
        raise ResponseValidationError(f"expected a JSON object for {what}, got {_preview(data)}")
    try:
        return converter.structure(data, cls)
    except ClassifyError:
        raise
    except Exception:  # the contract: no decoding failure escapes as anything else
        pass
    raise _invalid(data, cls, what)


def _invalid(data: dict[str, Any], cls: type[Any], what: str) -> ResponseValidationError:
    try:
        found = _find_bad_field(data, cls, "")
    except RecursionError:
        found = None
    if found is None:
        return ResponseValidationError(f"{what} is not valid: {_preview(data)}")
    path, value, problem = found
    return ResponseValidationError(
        f"{what} field {path!r} {problem}: {_preview(value)}", field=path, value=value
    )


_MISSING: Any = object()


def _find_bad_field(data: Any, cls: type[Any], path: str) -> tuple[str, Any, str] | None:
    """The first field of ``data`` (read as the attrs class ``cls``) that cannot be read:
    its dotted path (``items[3].result.confidence``), its value and what is wrong with it."""
    hints = typing.get_type_hints(cls)
    for attribute in attrs.fields(cls):
        name = f"{path}.{attribute.name}" if path else attribute.name
        value = data.get(attribute.name, _MISSING) if isinstance(data, dict) else _MISSING
        if value is _MISSING:
            if attribute.default is attrs.NOTHING:
                return name, data, "is required but missing"
            continue
        try:
            converter.structure(value, hints[attribute.name])
        except Exception as exc:  # found it: now say where, and what
            return _inside(value, hints[attribute.name], name) or (
                name,
                value,
                f"is invalid ({exc})" if not isinstance(exc, RecursionError) else "nests too deep",
            )
    return None


def _inside(value: Any, type_: Any, path: str) -> tuple[str, Any, str] | None:
    """Descend into a record (or an array of records) to name the field inside it."""
    args = [arg for arg in typing.get_args(type_) if arg is not type(None) and arg is not Ellipsis]
    inner = (
        args[0]
        if isinstance(type_, types.UnionType) or typing.get_origin(type_) is tuple
        else type_
    )
    if not (isinstance(inner, type) and attrs.has(inner)):
        return None
    if typing.get_origin(type_) is tuple and isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                return (
                    f"{path}[{index}]",
                    item,
                    f"is invalid (expected an object, got {_kind(item)})",
                )
            found = _find_bad_field(item, inner, f"{path}[{index}]")
            if found is not None:
                return found
        return None
    return _find_bad_field(value, inner, path) if isinstance(value, dict) else None


_fast_page = FastDecoder(
    Page, parse_datetime=parse_iso_datetime, mirrored={ClassifyJob: _INPUT_FIELDS}
)
_page_shape = ShapeChecker(Page, parse_datetime=parse_iso_datetime)
_fast_job = FastDecoder(
    ClassifyJob, parse_datetime=parse_iso_datetime, mirrored={ClassifyJob: _INPUT_FIELDS}
)


def read_page(body: bytes) -> Page:
    """A page from a response body: the fast path, else the exact one."""
    page = _fast_page.decode(body)
    return page if page is not None else structure_page(json_body(body))


def read_job(body: bytes) -> ClassifyJob:
    """A job from a response body: the fast path, else the exact one."""
    job = _fast_job.decode(body)
    return job if job is not None else structure_job(json_body(body))


def check_page(body: bytes) -> Any | None:
    """A page body checked as ``read_page`` checks it, without building its records: a msgspec
    Struct with the page's fields (each job's as Structs too), or None where the fast path
    would refuse the body (``read_page`` then decides)."""
    return _page_shape.check(body)


def read_checked_job(part: bytes | msgspec.Raw) -> ClassifyJob | None:
    """A job from one item of a page body that ``fast_decode.json_loads_refuses`` passed, by the
    fast path alone: None where it refuses, and the caller reads the whole body exactly."""
    return _fast_job.decode_checked(part)


def structure_job(data: Any) -> ClassifyJob:
    return _structure(data, ClassifyJob, "job")


def structure_page(data: Any) -> Page:
    return _structure(data, Page, "page")


def structure_configuration(data: dict[str, Any]) -> ClassifyConfiguration:
    """A configuration given as a plain dict; a wrong shape is the caller's ``ValueError``, a
    missing field named with its rule (``configuration.rules[1] lacks the field ...``)."""
    _check_rule_fields(data.get("rules"))
    try:
        return converter.structure(data, ClassifyConfiguration)
    except KeyError as exc:
        raise ValueError(f"configuration lacks the field {exc.args[0]!r}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"configuration is not a valid configuration: {exc}") from None


def _check_rule_fields(rules: Any) -> None:
    for index, rule in enumerate(rules if isinstance(rules, list) else ()):
        for name in ("type", "description"):
            if isinstance(rule, dict) and name not in rule:
                kind = rule.get("type")
                which = f" (type {shorten(kind, 50)!r})" if isinstance(kind, str) else ""
                raise ValueError(f"configuration.rules[{index}]{which} lacks the field {name!r}")


# Event names go out as a JSON array, as record tuples do.
converter.register_unstructure_hook_func(lambda type_: type_ == tuple[str, ...], list)


def _optional_texts(value: Any, _: Any = None) -> tuple[str, ...] | None:
    """An array of strings: a lone string is not split into one-letter names."""
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise _wrong(value, "an array of strings")
    return tuple(_text(item) for item in value)


converter.register_structure_hook(tuple[str, ...] | None, _optional_texts)
_WEBHOOK_FIELDS = frozenset(attribute.name for attribute in WebhookConfiguration.__attrs_attrs__)


def structure_webhook_configuration(data: dict[str, Any], name: str) -> WebhookConfiguration:
    """A webhook configuration given as a plain dict; an unknown key or a wrong shape is the
    caller's error (``ValueError`` / ``TypeError`` naming ``name``)."""
    unknown = sorted(str(key) for key in data if key not in _WEBHOOK_FIELDS)
    if unknown:
        raise ValueError(f"{name} has unknown keys {unknown}; known: {sorted(_WEBHOOK_FIELDS)}")
    try:
        return WebhookConfiguration(**data)
    except TypeError as exc:
        raise TypeError(f"{name} is not a valid webhook configuration: {exc}") from None


def create_body(
    *,
    file_input: str,
    configuration: ClassifyConfiguration | None,
    configuration_id: str | None,
    transaction_id: str,
    webhook_configuration_ids: list[str] | None,
    webhook_configurations: list[WebhookConfiguration] | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST /api/v2/classify``."""
    body: dict[str, Any] = {"file_input": file_input, "transaction_id": transaction_id}
    if configuration is not None:
        body["configuration"] = converter.unstructure(configuration)
    else:
        body["configuration_id"] = configuration_id
    if webhook_configuration_ids is not None:
        body["webhook_configuration_ids"] = webhook_configuration_ids
    if webhook_configurations is not None:
        body["webhook_configurations"] = [
            converter.unstructure(webhook) for webhook in webhook_configurations
        ]
    return body


def _preview(data: Any) -> str:
    """A short excerpt: ``repr`` of a huge or deeply nested value is never built whole."""
    if isinstance(data, str):
        return shorten(repr(data[:400]))
    if isinstance(data, dict | list):
        try:
            return shorten(repr(_head(data, depth=3)))
        except RecursionError:
            return "(nested too deep to show)"
    return shorten(repr(data))


def _head(data: Any, depth: int) -> Any:
    """The first few entries of ``data``, a few levels deep: enough for an excerpt."""
    if isinstance(data, str):
        return data[:200]
    if depth == 0 and isinstance(data, dict | list):
        return "..."
    if isinstance(data, dict):
        return {
            key[:50] if isinstance(key, str) else key: _head(value, depth - 1)
            for key, value in list(data.items())[:8]
        }
    if isinstance(data, list):
        return [_head(value, depth - 1) for value in data[:8]]
    return data


# -- records as plain dicts (``Record.to_dict`` / ``Record.from_dict``) -----------------------

#: Writes every field, None included, so each kind of record has one stable set of keys; the
#: request body (``create_body``) keeps omitting unset fields through ``converter``.
_dict_converter = converter.copy()
for _cls in (ClassifyRule, ParsingConfiguration, ClassifyConfiguration, WebhookConfiguration):
    _dict_converter.register_unstructure_hook(_cls, make_dict_unstructure_fn(_cls, _dict_converter))

_RecordT = TypeVar("_RecordT", bound=Record)


def record_to_dict(record: Record) -> dict[str, Any]:
    """Any model as JSON's own types (see ``Record.to_dict``)."""
    result: dict[str, Any] = _dict_converter.unstructure(record)
    return result


def record_from_dict(cls: type[_RecordT], data: Mapping[str, Any]) -> _RecordT:
    """Read ``cls`` from a dict as tolerantly as from a response; ``data`` is left untouched
    (reading never changes what it reads, so nothing is copied: a value no copy could take, a
    generator, a mappingproxy, JSON nested a thousand deep under an unknown key, is simply
    read or refused like any other)."""
    return _structure(dict(data) if isinstance(data, Mapping) else data, cls, cls.__name__)


class _RecordDicts:
    """``Record.to_dict`` / ``from_dict``, served from here (see ``models.DictMapping``)."""

    to_dict = staticmethod(record_to_dict)
    from_dict = staticmethod(record_from_dict)


install_dict_mapping(_RecordDicts())
