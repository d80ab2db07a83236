"""Frozen attrs records for what the service sends and accepts.

Reading is tolerant (see ``conversion``): a status or mode this client does not know stays a
plain ``str``, which is why those fields are typed ``JobStatus | str``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, Self, TypeVar

from attrs import field, frozen

__all__ = [
    "TERMINAL_STATUSES",
    "ClassifyConfiguration",
    "ClassifyJob",
    "ClassifyListResponse",
    "ClassifyMode",
    "ClassifyResult",
    "ClassifyRule",
    "JobStatus",
    "Page",
    "ParsingConfiguration",
    "Record",
    "Usage",
    "WebhookConfiguration",
]


class JobStatus(StrEnum):
    """Where a job is in its life; members equal their plain strings
    (``JobStatus.COMPLETED == "COMPLETED"``).

    COMPLETED, FAILED and CANCELLED are terminal. A status the service adds later reaches you
    as a plain ``str``, never as an error.
    """

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})


class ClassifyMode(StrEnum):
    """How the service classifies; ``FAST`` is the only mode it documents today."""

    FAST = "FAST"


class DictMapping(Protocol):
    """How records become plain dicts and back: ``aio_classify._decode.conversion`` installs
    the one implementation (``install_dict_mapping``) when it is imported, which importing
    ``aio_classify`` always does. The layer above plugs in, so this module imports nothing of it."""

    def to_dict(self, record: Record) -> dict[str, Any]: ...

    def from_dict(self, cls: type[_RecordT], data: Mapping[str, Any]) -> _RecordT: ...


_mapping: DictMapping | None = None


def install_dict_mapping(mapping: DictMapping) -> None:
    """Make ``mapping`` the one serving every record's ``to_dict`` / ``from_dict``."""
    global _mapping
    _mapping = mapping


def _installed() -> DictMapping:
    if _mapping is None:  # only a partial import of the package could get here
        raise RuntimeError("aio_classify._decode.conversion is not imported")
    return _mapping


class Record:
    """What every model shares: conversion to and from plain, JSON-safe dicts.

    Both directions go through ``aio_classify._decode.conversion``, the one place that maps
    records to JSON, so ``from_dict`` reads exactly as tolerantly as the client reads responses.
    """

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """This record as JSON's own types: every field (``None`` included), datetimes as ISO 8601
        strings with their UTC offset, enums as plain strings, tuples as lists, so
        ``json.dumps(record.to_dict())`` works."""
        return _installed().to_dict(self)

    def to_json(self) -> str:
        """``to_dict()`` as compact, strict JSON text (like pydantic's ``model_dump_json()``):
        non-ASCII characters escaped, and never ``NaN`` or ``Infinity``.

        A record read from the service never holds a non-finite number; one built by hand with
        ``float("nan")`` raises ``ValueError`` rather than print what JSON readers refuse.
        """
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read a record from a dict such as ``to_dict()`` or the service returns: unknown keys
        are ignored, an unknown status or mode stays a plain string. ``data`` is not modified.

        Raises:
            ResponseValidationError: a required field is missing or has the wrong JSON type
                (the message names it).
        """
        return _installed().from_dict(cls, data)


_RecordT = TypeVar("_RecordT", bound=Record)


@frozen(kw_only=True)
class ClassifyRule(Record):
    """Assign ``type`` when the document matches ``description``.

    Attributes:
        type: The name this rule gives a matching document (1 to 50 characters).
        description: What such a document looks like, in natural language (10 to 2,000
            characters).
    """

    type: str
    description: str


@frozen(kw_only=True)
class ParsingConfiguration(Record):
    """How the service reads the document before classifying it.

    Attributes:
        lang: The document's language, e.g. ``"en"``.
        max_pages: Read at most this many pages (1 or more).
        target_pages: Only these pages, e.g. ``"1,3,5-7"``.
    """

    lang: str | None = None
    max_pages: int | None = None
    target_pages: str | None = None


def _to_tuple(rules: object) -> tuple[ClassifyRule, ...]:
    if type(rules) is tuple:  # what the converter builds: the common case, kept cheap
        return rules
    if isinstance(rules, (str, bytes)) or not hasattr(rules, "__iter__"):
        raise TypeError(f"rules must be a sequence of ClassifyRule, not {type(rules).__name__}")
    return tuple(rules)


@frozen(kw_only=True)
class ClassifyConfiguration(Record):
    """The rules a job classifies by, given inline to ``create_job`` (the alternative is the id
    of a configuration saved in LlamaCloud).

    Attributes:
        rules: At least one ``ClassifyRule``; any sequence is accepted and kept as a tuple.
        mode: A ``ClassifyMode``, or a plain string for a mode this client does not know.
        parsing_configuration: How to read the document; the service's defaults when None.
    """

    rules: tuple[ClassifyRule, ...] = field(converter=_to_tuple)
    mode: ClassifyMode | str | None = None
    parsing_configuration: ParsingConfiguration | None = None


@frozen(kw_only=True)
class ClassifyResult(Record):
    """What a COMPLETED job concluded.

    Attributes:
        confidence: From 0 to 1.
        reasoning: The service's explanation, in natural language.
        type: The ``type`` of the rule that matched; None when no rule matched.
    """

    confidence: float | None = None
    reasoning: str | None = None
    type: str | None = None


@frozen(kw_only=True)
class Usage(Record):
    """Credits a job used; the service sends them only when asked to (``expand=usage``).

    Attributes:
        credits: Credits charged for classifying.
        parse_credits: Credits charged for parsing the document first.
    """

    credits: float | None = None
    parse_credits: float | None = None


@frozen(kw_only=True)
class ClassifyJob(Record):
    """One classify job as the service reports it (also exported as ``ClassifyListResponse``,
    the official SDK's name).

    ``document_input_value`` (the documented name) and ``file_input`` (what the live service
    sends) always hold the same value, whichever of the two the server sent.

    Attributes:
        id: The job id, e.g. ``"cls-..."``.
        status: A ``JobStatus``, or a plain string for a status this client does not know.
        configuration: The rules the job classifies by.
        document_input_type: ``"url"``, ``"file_id"`` or ``"parse_job_id"``.
        document_input_value: The document: a file id, parse job id or URL.
        file_input: The same value as ``document_input_value``.
        project_id: The project the job belongs to.
        user_id: Who created the job.
        configuration_id: The saved configuration the job used, if any.
        created_at: When the job was created (timezone-aware).
        updated_at: When the job last changed (timezone-aware).
        error_message: Why a FAILED job failed.
        parse_job_id: The parse job that read the document.
        result: What a COMPLETED job concluded.
        transaction_id: The idempotency key the job was created with.
        usage: Credits used, when the service was asked for them (``expand=usage``).
    """

    id: str
    status: JobStatus | str
    configuration: ClassifyConfiguration | None = None
    document_input_type: str | None = None
    document_input_value: str | None = None
    file_input: str | None = None
    project_id: str | None = None
    user_id: str | None = None
    configuration_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    error_message: str | None = None
    parse_job_id: str | None = None
    result: ClassifyResult | None = None
    transaction_id: str | None = None
    usage: Usage | None = None

    @property
    def is_terminal(self) -> bool:
        """COMPLETED, FAILED or CANCELLED: the job will not change any more."""
        return self.status in TERMINAL_STATUSES


ClassifyListResponse = ClassifyJob
"""The official SDK's name for ``ClassifyJob``: the same class."""


class _FrozenHeaders(dict[str, str]):
    """A dict that cannot change and hashes by its items: a frozen record's headers must be
    neither changed in place nor make the record unhashable. Still a ``dict`` for JSON and
    ``isinstance`` checks."""

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("webhook_headers of a frozen WebhookConfiguration cannot be changed")

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[type[_FrozenHeaders], tuple[dict[str, str]]]:
        return type(self), (dict(self),)


def _headers_copy(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if headers is None else _FrozenHeaders(headers)


def _events_tuple(events: Iterable[str] | None) -> tuple[str, ...] | None:
    if events is None or type(events) is tuple:
        return events
    if isinstance(events, str | bytes) or not hasattr(events, "__iter__"):
        raise TypeError(f"webhook_events must be a sequence of str, not {type(events).__name__}")
    return tuple(events)


def _masked_headers(headers: dict[str, str] | None) -> str:
    """Header names only: values are often credentials (``Authorization: Bearer ...``)."""
    return "None" if headers is None else repr(dict.fromkeys(headers, "***"))


def _masked(secret: str | None) -> str:
    return "None" if secret is None else "'***'"


@frozen(kw_only=True)
class WebhookConfiguration(Record):
    """An endpoint the service notifies when a job changes state, sent inline with
    ``create_job(..., webhook_configurations=[...])`` (a plain dict with these keys works too).

    ``repr()`` masks the signing secret and the header values: both are credentials.

    Attributes:
        webhook_url: Where the service POSTs the events.
        webhook_headers: Headers sent with every delivery (str to str); a read-only dict.
        webhook_events: The event types to deliver, e.g. ``("classify.success",
            "classify.error")``; None means every event.
        webhook_output_format: ``"string"`` (the service's default: the JSON body encoded once
            more) or ``"json"``.
        webhook_signing_secret: With one, each delivery carries ``LC-Signature: sha256=<hex
            HMAC-SHA256 of the raw body>``.
    """

    webhook_url: str | None = None
    webhook_headers: dict[str, str] | None = field(
        default=None, converter=_headers_copy, repr=_masked_headers
    )
    webhook_events: tuple[str, ...] | None = field(default=None, converter=_events_tuple)
    webhook_output_format: str | None = None
    webhook_signing_secret: str | None = field(default=None, repr=_masked)


@frozen
class Page(Record):
    """One page of a listing; pass ``next_page_token`` to ``list_jobs`` to resume after it.

    Attributes:
        items: The jobs on this page, in the service's order (newest first).
        next_page_token: Where the next page starts; None or empty on the last page.
        total_size: How many jobs the whole listing holds, when the service says.
    """

    items: tuple[ClassifyJob, ...]
    next_page_token: str | None = None
    total_size: int | None = None
