"""Argument checks shared by the client's methods: bad input fails here, before any request,
with an error that names the argument."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .conversion import to_utc
from .models import JobStatus

__all__ = ["check_int", "check_job_id", "check_optional_str", "check_status", "iso_datetime"]


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


def check_optional_str(value: Any, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a str or None, not {type(value).__name__}")
    return value


def iso_datetime(value: Any, name: str) -> str | None:
    """A datetime or ISO 8601 string as the ISO text the service expects; naive means UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{name} must be an ISO 8601 date-time; got {value!r}") from None
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime or ISO 8601 str, not {type(value).__name__}")
    return to_utc(value).isoformat()
