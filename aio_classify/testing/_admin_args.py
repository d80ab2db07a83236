"""The argument kinds of the fake's admin routes: each reads and checks one field of a request
and says, for the documentation tables, what it accepts.

Fields are checked like the service checks its own: a wrong type, a value out of range or an
unknown field (a typo such as ``retry-after``) is a 422 naming the field, and nothing changes.
One kind knows both its check and its description, so the docs cannot promise a range the route
does not hold.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import attrs
from aiohttp import web

from ._faults import TRUNCATED_JSON
from ._parse_requests import Invalid, error

MAX_COUNT = 1_000_000
#: Ranges wider than this are not worth a mention in the docs (counts, seeds, rates).
MENTIONED_MAXIMUM = 86_400


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""A header name, as RFC 9110 spells a token."""


def _header_safe(value: object) -> bool:
    """A string that can go out as a header value: no control character but tab (NUL, ESC, DEL,
    CR and LF would break the answer inside aiohttp, or split it)."""
    return (
        isinstance(value, str)
        and bool(value)
        and not any((ord(char) < 32 and char != "\t") or ord(char) == 127 for char in value)
    )


def _header_name(value: object) -> bool:
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def _invalid(loc: tuple[str, ...], message: str, kind: str) -> Invalid:
    return Invalid([error(loc, message, kind)])


class Fields:
    """One admin request's JSON object (and query); remembers which fields were read."""

    def __init__(self, body: Mapping[str, Any], query: Mapping[str, str] | None = None) -> None:
        self._body = body
        self.query: Mapping[str, str] = query or {}
        self._read: set[str] = set()

    @classmethod
    async def of(cls, request: web.Request) -> Fields:
        """A POST's body: a JSON object, or none at all (``curl -X POST`` with no data); a
        GET's query (its body, if any, is never read)."""
        if request.method != "POST":
            return cls({}, request.query)
        if not request.can_read_body:
            return cls({})
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # nested deeper than Python's parser goes: 422 too
            raise Invalid([error(("body", 0), "JSON decode error", "json_invalid")]) from None
        if not isinstance(body, dict):
            raise Invalid([error(("body",), "Input should be a valid dictionary", "dict_type")])
        return cls(body)

    def has(self, name: str) -> bool:
        """Whether the field is present (even as ``null``)."""
        return name in self._body

    def value(self, name: str) -> Any:
        """The raw JSON value of a field (None when absent)."""
        self._read.add(name)
        return self._body.get(name)

    def finish(self) -> None:
        """Refuse fields no argument reads, so a typo never passes as 'nothing to change'."""
        unknown = sorted(set(self._body) - self._read)
        if unknown:
            message = "Extra inputs are not permitted"
            raise _invalid(("body", unknown[0]), message, "extra_forbidden")


@attrs.frozen
class Arg:
    """One body field: its name, its check (``read``) and a note for the docs."""

    name: str
    note: str = attrs.field(default="", kw_only=True)

    def read(self, fields: Fields) -> Any:
        """The field's checked value, or its default; ``Invalid`` when it is wrong."""
        raise NotImplementedError

    def facts(self) -> list[str]:
        """What the docs say of the field besides its note: required, range, default."""
        return []

    def describe(self) -> str:
        """The field as the docs tables show it, e.g. ``count`` (1)."""
        parts = [*self.facts(), *([self.note] if self.note else [])]
        return f"`{self.name}`" + (f" ({'; '.join(parts)})" if parts else "")

    def refuse(self, message: str, kind: str) -> Invalid:
        return _invalid(("body", self.name), message, kind)


@attrs.frozen
class Integer(Arg):
    """A whole number in range; ``default`` None means the field is required."""

    default: int | None
    minimum: int = 0
    maximum: int = MAX_COUNT

    def read(self, fields: Fields) -> int:
        value = fields.value(self.name)
        if value is None and self.default is not None:
            return self.default
        if value is None:
            raise self.refuse("Field required", "missing")
        if isinstance(value, bool) or not isinstance(value, int):
            value = None  # refused just below, as out of range
        if value is None or not self.minimum <= value <= self.maximum:
            message = f"Input should be a whole number between {self.minimum} and {self.maximum}"
            raise self.refuse(message, "int_range")
        return int(value)

    def facts(self) -> list[str]:
        required = ["required"] if self.default is None else []
        shown = self.maximum <= MENTIONED_MAXIMUM
        span = [f"{self.minimum}..{self.maximum}"] if shown else []
        return required + span + ([] if self.default is None else [str(self.default)])


#: The ``seed`` of a route that draws at random.
SEED = Integer("seed", 0, maximum=2**63)


@attrs.frozen
class Number(Arg):
    """A number from 0 to ``maximum``; also refuses NaN and infinities (which Python's JSON
    reader accepts)."""

    default: float
    maximum: float

    def read(self, fields: Fields) -> float:
        value = fields.value(self.name)
        if value is None:
            return self.default
        if not _is_number(value) or not 0 <= value <= self.maximum:
            message = f"Input should be a number between 0 and {self.maximum:g}"
            raise self.refuse(message, "number_range")
        return float(value)

    def facts(self) -> list[str]:
        span = [f"0..{self.maximum:g}"] if self.maximum <= MENTIONED_MAXIMUM else []
        return [*span, f"{self.default:g}"]


@attrs.frozen
class NullableNumber(Arg):
    """A required field: a number from 0 to ``maximum``, or ``null``."""

    maximum: float

    def read(self, fields: Fields) -> float | None:
        if not fields.has(self.name):
            raise self.refuse("Field required", "missing")
        if fields.value(self.name) is None:
            return None
        return Number(self.name, 0, self.maximum).read(fields)

    def facts(self) -> list[str]:
        return ["required"]


@attrs.frozen
class Text(Arg):
    """A non-empty string; ``default`` when absent, unless ``required``. With ``header``, it is
    sent as a header value, so no control character is allowed."""

    default: str | None = None
    required: bool = False
    header: bool = False

    def read(self, fields: Fields) -> str | None:
        value = fields.value(self.name)
        if value is None and not self.required:
            return self.default
        if not isinstance(value, str) or not value:
            raise self.refuse("Input should be a non-empty string", "string_type")
        if self.header and not _header_safe(value):
            message = "Input should be a header value (no control characters)"
            raise self.refuse(message, "header_value")
        return value

    def facts(self) -> list[str]:
        if self.required:
            return ["required"]
        return [] if self.default is None else [f"`{self.default}`"]


@attrs.frozen
class RawText(Arg):
    """Any string, even empty, sent as it is (encoded); ``default`` when absent."""

    default: bytes = TRUNCATED_JSON

    def read(self, fields: Fields) -> bytes:
        value = fields.value(self.name)
        if value is None:
            return self.default
        if not isinstance(value, str):
            raise self.refuse("Input should be a string", "string_type")
        return value.encode()

    def facts(self) -> list[str]:
        return ["text", f"default `{self.default.decode()}`"]


@attrs.frozen
class AnyJson(Arg):
    """Any JSON value, encoded again; None when absent."""

    def read(self, fields: Fields) -> bytes | None:
        return json.dumps(fields.value(self.name)).encode() if fields.has(self.name) else None


@attrs.frozen
class HeaderValue(Arg):
    """A header's value: a string without control characters, or a number (sent as its text)."""

    def read(self, fields: Fields) -> str | None:
        value = fields.value(self.name)
        if value is None:
            return None
        if _header_safe(value) or _is_number(value):
            return str(value)
        message = "Input should be a number or a string (no control characters)"
        raise self.refuse(message, "header_value")


@attrs.frozen
class HeaderMap(Arg):
    """An object of header names (tokens) and values (no control characters); ``{}`` when
    absent."""

    def read(self, fields: Fields) -> dict[str, str]:
        value = fields.value(self.name)
        if value is None:
            return {}
        if not (
            isinstance(value, dict)
            and all(map(_header_name, value))
            and all(map(_header_safe, value.values()))
        ):
            message = (
                "Input should be an object of header names (tokens) and values "
                "(no control characters)"
            )
            raise self.refuse(message, "dict_type")
        return value


@attrs.frozen
class Numbers(Arg):
    """A list of numbers, each from 0 to ``maximum``."""

    maximum: float

    def read(self, fields: Fields) -> list[float] | None:
        value = fields.value(self.name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(
            _is_number(item) and 0 <= item <= self.maximum for item in value
        ):
            message = f"Input should be a list of numbers between 0 and {self.maximum:g}"
            raise self.refuse(message, "list_type")
        return [float(item) for item in value]


@attrs.frozen
class Texts(Arg):
    """A list of strings."""

    def read(self, fields: Fields) -> list[str] | None:
        value = fields.value(self.name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.refuse("Input should be a list of strings", "list_type")
        return value


@attrs.frozen
class Weights(Arg):
    """One status, or weights such as ``{"COMPLETED": 9, "FAILED": 1}``."""

    def read(self, fields: Fields) -> str | dict[str, float] | None:
        value = fields.value(self.name)
        if value is None or (isinstance(value, str) and value):
            return value
        if (
            isinstance(value, dict)
            and value
            and all(_is_number(w) and 0 <= w < math.inf for w in value.values())
            and sum(value.values()) > 0
        ):
            return {str(k): float(w) for k, w in value.items()}
        message = "Input should be a status or an object of status weights"
        raise self.refuse(message, "weights_type")


@attrs.frozen
class QueryInteger(Arg):
    """A whole number from 0 to ``maximum`` in the query string (GET routes)."""

    default: int
    maximum: int

    def read(self, fields: Fields) -> int:
        text = fields.query.get(self.name)
        if text is None:
            return self.default
        if not text.isdigit() or int(text) > self.maximum:
            message = f"Input should be a whole number between 0 and {self.maximum}"
            raise _invalid(("query", self.name), message, "int_range")
        return int(text)

    def facts(self) -> list[str]:
        return ["query", str(self.default)]
