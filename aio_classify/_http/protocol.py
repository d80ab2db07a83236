"""The sans-I/O core: builds the path and query of a request, and turns (status, headers, body)
into JSON or a typed error.

Nothing here touches the network, so every rule about what the service expects of a request and
means by a response is testable with plain values, and the aiohttp adapter in ``transport`` stays
a few lines. Values arrive already checked (``validation``); here they only take their wire form.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from multidict import CIMultiDict

from .._core.errors import APIStatusError, ResponseValidationError, status_error_class
from .._core.sanitize import detached, one_line, redact, redact_bytes, shorten
from .._decode.strict_json import NOT_JSON, BodyNotJSONError, json_body, parse_json

__all__ = [
    "CLIENT_QUERY_NAMES",
    "JOBS_PATH",
    "Query",
    "decode_response",
    "job_path",
    "list_query",
    "page_query",
    "request_id",
    "retry_after",
    "scope_query",
    "server_says_retry",
]

JOBS_PATH = "/api/v2/classify"

#: Query parameters in order; a name may repeat (``job_ids``).
Query = Sequence[tuple[str, str]]

#: Every query parameter the client itself sends: ``extra_query`` may not replace one.
CLIENT_QUERY_NAMES = frozenset(
    {
        "organization_id",
        "project_id",
        "status",
        "configuration_id",
        "created_at_on_or_after",
        "created_at_on_or_before",
        "page_size",
        "job_ids",
        "page_token",
        "expand",
    }
)


def scope_query(project_id: str | None, organization_id: str | None) -> list[tuple[str, str]]:
    """The project / organization pair every call sends; an empty value is left out."""
    query = []
    if organization_id:
        query.append(("organization_id", organization_id))
    if project_id:
        query.append(("project_id", project_id))
    return query


def list_query(
    scope: Query,
    *,
    status: str | None = None,
    configuration_id: str | None = None,
    created_at_on_or_after: str | None = None,
    created_at_on_or_before: str | None = None,
    page_size: int | None = None,
    job_ids: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """The query of a listing: ``scope``, then each filter given, ``job_ids`` repeated."""
    query = [*scope]
    for name, value in (
        ("status", status),
        ("configuration_id", configuration_id),
        ("created_at_on_or_after", created_at_on_or_after),
        ("created_at_on_or_before", created_at_on_or_before),
        ("page_size", None if page_size is None else str(page_size)),
    ):
        if value is not None:
            query.append((name, value))
    query.extend(("job_ids", job_id) for job_id in job_ids)
    return query


def page_query(query: Query, page_token: str | None) -> Query:
    """The query for one page of a listing: the first page has no token."""
    return [*query, ("page_token", page_token)] if page_token else query


def job_path(job_id: str, action: str | None = None) -> str:
    """``/api/v2/classify/{job_id}[/action]`` with the id as one opaque, percent-encoded segment.

    ``.`` and ``..`` are encoded too: a server would otherwise resolve them into another route.
    """
    segment = quote(job_id, safe="")
    if segment in {".", ".."}:
        segment = segment.replace(".", "%2E")
    path = f"{JOBS_PATH}/{segment}"
    return f"{path}/{action}" if action else path


def decode_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    request: str,
    secret: str | None = None,
    decode: Callable[[bytes], Any] | None = None,
) -> Any:
    """A 2xx body read by ``decode`` (which gets the raw bytes; ``json_body`` by default, or one
    of ``conversion``'s readers); otherwise raise the ``APIStatusError`` for the status.

    ``request`` ("GET /api/v2/classify") only labels messages; it never holds the API key.
    ``secret`` (the API key) is taken out of the body and headers before anything reads them,
    so a server echoing it back cannot put it into an exception. Every error raised here is a
    ``ClassifyError`` with no exception chain.
    """
    body = redact_bytes(body, secret)
    if 200 <= status < 300:
        try:
            return (decode or json_body)(body)
        except BodyNotJSONError:
            pass  # raised below, outside the handler: no exception chain
        raise detached(
            ResponseValidationError(
                f"{request} answered {status} with a body that is not JSON: "
                f"{redact(_start(body), secret)}"
            )
        )
    raise detached(_status_error(status, _redacted_headers(headers, secret), body, request, secret))


def _redacted_headers(headers: Mapping[str, str], secret: str | None) -> Mapping[str, str]:
    if not secret or not any(secret in value for value in headers.values()):
        return headers
    return CIMultiDict((name, redact(value, secret)) for name, value in headers.items())


def _status_error(
    status: int, headers: Mapping[str, str], body: bytes, request: str, secret: str | None
) -> APIStatusError:
    payload = parse_json(body)
    if payload is NOT_JSON:
        payload = body.decode("utf-8", "replace")
    detail = payload.get("detail", payload) if isinstance(payload, dict) else payload
    service_id = request_id(headers)
    quoted = "" if service_id is None else f" (request id {one_line(service_id, 100)})"
    return status_error_class(status)(
        f"{request} answered {status}: {redact(_start(detail), secret)}{quoted}",
        status_code=status,
        body=payload,
        headers=headers,
        retry_after=retry_after(headers),
        should_retry=server_says_retry(headers),
        request_id=service_id,
    )


def request_id(headers: Mapping[str, str]) -> str | None:
    """The service's id for the request (``x-request-id``), to quote to support; ``None``
    when absent. Server text: escape and clip it (``sanitize.one_line``) before showing it."""
    return headers.get("x-request-id")


def retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, else ``Retry-After``
    (seconds or an HTTP date; a date in the past means now).

    ``None`` when absent or not a finite non-negative number (``NaN``, ``inf``, ``-1``,
    garbage): such a hint is ignored and the backoff applies. ``asyncio.sleep(nan)`` never
    returns, and NaN passes both ``max`` and ``min``, so it must not get this far.
    """
    millis = _finite_seconds(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _finite_seconds(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
        return max(when.timestamp() - (time.time() if now is None else now), 0.0)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def _finite_seconds(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def server_says_retry(headers: Mapping[str, str]) -> bool | None:
    """``x-should-retry: true|false`` overrides our own idea of what is retryable."""
    value = headers.get("x-should-retry", "").strip().lower()
    return {"true": True, "false": False}.get(value)


def _start(value: Any) -> str:
    """The start of a body or ``detail``, for a message; never a whole copy of a big one."""
    if isinstance(value, bytes):
        value = value[:1000].decode("utf-8", "replace")
    if not isinstance(value, str):
        try:
            value = json.dumps(value)
        except (RecursionError, ValueError):
            value = "(a value nested too deep to show)"
    return shorten(value)
