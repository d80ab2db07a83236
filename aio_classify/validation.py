"""Argument checks shared by the client's methods: bad input fails here, before any request,
with an error that names the argument."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .conversion import structure_configuration, to_utc
from .models import ClassifyConfiguration, ClassifyRule, JobStatus

__all__ = [
    "check_configuration",
    "check_datetime",
    "check_int",
    "check_job_id",
    "check_job_ids_source",
    "check_optional_str",
    "check_seconds",
    "check_status",
    "check_str_list",
    "check_text",
    "iso_datetime",
]


def check_status(status: Any, name: str = "status") -> JobStatus | None:
    if status is None:
        return None
    if not isinstance(status, str):
        raise TypeError(f"{name} must be a JobStatus or str, not {type(status).__name__}")
    try:
        return JobStatus(status)
    except ValueError:
        allowed = ", ".join(member.value for member in JobStatus)
        raise ValueError(f"{name} must be one of {allowed}; got {status!r}") from None


def check_int(value: Any, name: str, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bounds}; got {value}")
    return value


def check_job_id(job_id: Any, name: str = "job_id") -> str:
    if not isinstance(job_id, str):
        raise TypeError(f"{name} must be a str, not {type(job_id).__name__}")
    if not job_id:
        raise ValueError(f"{name} must not be empty")
    return job_id


def check_text(value: Any, name: str) -> str:
    """A non-empty str, for values the service needs as given (inputs, keys, ids we send)."""
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty str; got {value!r}")
    return value


def check_optional_str(value: Any, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a str or None, not {type(value).__name__}")
    return value


def iso_datetime(value: Any, name: str) -> str | None:
    """A datetime or ISO 8601 string as the ISO text the service expects; naive means UTC."""
    checked = check_datetime(value, name)
    return None if checked is None else checked.isoformat()


def check_datetime(value: Any, name: str) -> datetime | None:
    """A datetime or ISO 8601 string as an aware datetime; naive means UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{name} must be an ISO 8601 date-time; got {value!r}") from None
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime or ISO 8601 str, not {type(value).__name__}")
    return to_utc(value)


def check_seconds(value: Any, name: str) -> float:
    """A positive, finite number of seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive number of seconds; got {value!r}")
    return float(value)


def check_job_ids_source(job_ids: Any) -> None:
    """An iterable or async iterable of ids; a lone ``str`` is refused (it iterates per char)."""
    if isinstance(job_ids, str | bytes):
        raise TypeError("job_ids must be an iterable of ids, not a single str")
    if not (hasattr(job_ids, "__iter__") or hasattr(job_ids, "__aiter__")):
        raise TypeError(
            f"job_ids must be an iterable or async iterable of str, not {type(job_ids).__name__}"
        )


def check_str_list(values: Any, name: str) -> list[str] | None:
    if values is None:
        return None
    check_job_ids_source(values)
    if not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be an iterable of str")
    items = list(values)
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item:
            raise TypeError(f"{name}[{index}] must be a non-empty str; got {item!r}")
    return items


def check_configuration(
    configuration: Any, configuration_id: Any
) -> tuple[ClassifyConfiguration | None, str | None]:
    """Exactly one of a configuration (record or plain dict) and a configuration id; a
    configuration's rules are checked as the service would, so a bad one costs no request."""
    if configuration is not None and configuration_id is not None:
        raise ValueError("pass either configuration or configuration_id, not both")
    if configuration is None:
        if configuration_id is None:
            raise ValueError("one of configuration or configuration_id is required")
        return None, check_text(configuration_id, "configuration_id")
    if isinstance(configuration, dict):
        configuration = structure_configuration(configuration)
    if not isinstance(configuration, ClassifyConfiguration):
        raise TypeError(
            "configuration must be a ClassifyConfiguration or a dict, "
            f"not {type(configuration).__name__}"
        )
    if not configuration.rules:
        raise ValueError("configuration.rules must hold at least one rule")
    for index, rule in enumerate(configuration.rules):
        _check_rule(rule, f"configuration.rules[{index}]")
    parsing = configuration.parsing_configuration
    if parsing is not None and parsing.max_pages is not None:
        check_int(parsing.max_pages, "configuration.parsing_configuration.max_pages", low=1)
    return configuration, None


def _check_rule(rule: Any, name: str) -> None:
    if not isinstance(rule, ClassifyRule):
        raise TypeError(f"{name} must be a ClassifyRule, not {type(rule).__name__}")
    for field, low, high in (("type", 1, 50), ("description", 10, 500)):
        text = getattr(rule, field)
        if not isinstance(text, str):
            raise TypeError(f"{name}.{field} must be a str, not {type(text).__name__}")
        if not low <= len(text) <= high:
            raise ValueError(
                f"{name}.{field} must be {low}..{high} characters; got {len(text)}: {text!r}"
            )
