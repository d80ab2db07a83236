"""Frozen attrs records for what the service sends and accepts.

Reading is tolerant (see ``conversion``): a status or mode this client does not know stays a
plain ``str``, which is why those fields are typed ``JobStatus | str``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

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
    "Usage",
    "WebhookConfiguration",
]


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})


class ClassifyMode(StrEnum):
    FAST = "FAST"


@frozen(kw_only=True)
class ClassifyRule:
    """Assign ``type`` when the document matches ``description`` (natural language)."""

    type: str
    description: str


@frozen(kw_only=True)
class ParsingConfiguration:
    lang: str | None = None
    max_pages: int | None = None
    target_pages: str | None = None  # e.g. "1,3,5-7"


def _to_tuple(rules: object) -> tuple[ClassifyRule, ...]:
    if type(rules) is tuple:  # what the converter builds: the common case, kept cheap
        return rules
    if isinstance(rules, (str, bytes)) or not hasattr(rules, "__iter__"):
        raise TypeError(f"rules must be a sequence of ClassifyRule, not {type(rules).__name__}")
    return tuple(rules)


@frozen(kw_only=True)
class ClassifyConfiguration:
    rules: tuple[ClassifyRule, ...] = field(converter=_to_tuple)
    mode: ClassifyMode | str | None = None
    parsing_configuration: ParsingConfiguration | None = None


@frozen(kw_only=True)
class ClassifyResult:
    confidence: float | None = None
    reasoning: str | None = None
    type: str | None = None  # None when no rule matched


@frozen(kw_only=True)
class Usage:
    credits: float | None = None
    parse_credits: float | None = None


@frozen(kw_only=True)
class ClassifyJob:
    """One classify job as the service reports it.

    ``document_input_value`` (the documented name) and ``file_input`` (what the live service
    sends) always hold the same value, whichever of the two the server sent.
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


def _headers_copy(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if headers is None else dict(headers)


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
class WebhookConfiguration:
    """An endpoint the service notifies when a job changes state, sent inline with
    ``create_job(..., webhook_configurations=[...])``.

    ``repr()`` masks the signing secret and the header values: both are credentials.
    """

    webhook_url: str | None = None
    webhook_headers: dict[str, str] | None = field(
        default=None, converter=_headers_copy, repr=_masked_headers
    )
    #: e.g. ``("classify.success", "classify.error")``; None means every event.
    webhook_events: tuple[str, ...] | None = field(default=None, converter=_events_tuple)
    #: ``"string"`` (the service's default: the JSON body encoded once more) or ``"json"``.
    webhook_output_format: str | None = None
    webhook_signing_secret: str | None = field(default=None, repr=_masked)


@frozen
class Page:
    """One page of a listing; pass ``next_page_token`` to ``list_jobs`` to resume after it."""

    items: tuple[ClassifyJob, ...]
    next_page_token: str | None = None
    total_size: int | None = None
