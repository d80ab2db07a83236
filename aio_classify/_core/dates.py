"""The one rule for datetimes without a zone: a naive datetime is taken as UTC, so every
datetime the client holds, sends or compares is aware. Callers' bounds, the service's dates and
webhook timestamps all pass through here."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["parse_iso_datetime", "to_utc"]


def to_utc(value: datetime) -> datetime:
    """``value`` if it is aware; a naive one is taken as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_iso_datetime(text: str) -> datetime:
    """An ISO 8601 text as an aware datetime (``ValueError`` if it is not one); ``to_utc``
    inlined, because this runs twice for every job read."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
