"""Strict JSON from a response body, and nothing but JSON: the one reader both the exact
decoding path and the error path use, so a body is either JSON by one rule or refused by it.

Python's ``json`` alone would read ``NaN`` and ``Infinity`` and raise a ``RecursionError`` or
``ValueError`` of its own for hostile input; here every such body is simply "not JSON".
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

__all__ = ["NOT_JSON", "BodyNotJSONError", "json_body", "parse_json"]


class BodyNotJSONError(ValueError):
    """Raised by ``json_body``; ``decode_response`` names the request that got such a body."""


def json_body(body: bytes) -> Any:
    """The JSON value of a 2xx body (``None`` when it is empty); ``BodyNotJSONError`` for
    anything ``parse_json`` refuses."""
    if not body or body.isspace():
        return None
    payload = parse_json(body)
    if payload is NOT_JSON:
        raise BodyNotJSONError
    return payload


NOT_JSON: Any = object()
"""What ``parse_json`` returns for a body that is not strict JSON."""


def parse_json(body: bytes) -> Any:
    """Strict JSON, or ``NOT_JSON``: invalid UTF-8, ``NaN`` / ``Infinity``, nesting deeper
    than Python's recursion limit and integers of more than 4,300 digits are all refused,
    never raised as anything else."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return NOT_JSON


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")
