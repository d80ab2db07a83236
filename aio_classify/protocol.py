"""The sans-I/O core: builds the path and query of a request, and turns (status, headers, body)
into JSON or a typed error.

Nothing here touches the network, so every rule about what the service expects of a request and
means by a response is testable with plain values, and the aiohttp adapter in ``transport`` stays
a few lines. Values arrive already checked (``validation``); here they only take their wire form.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from .errors import APIStatusError, ResponseValidationError, status_error_class

__all__ = [
    "JOBS_PATH",
    "BodyNotJSONError",
    "Query",
    "decode_response",
    "job_path",
    "json_body",
    "list_query",
    "page_query",
    "retry_after",
    "scope_query",
    "server_says_retry",
    "shorten",
]

JOBS_PATH = "/api/v2/classify"

#: Query parameters in order; a name may repeat (``job_ids``).
Query = Sequence[tuple[str, str]]


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


class BodyNotJSONError(ValueError):
    """Raised by ``json_body``; ``decode_response`` names the request that got such a body."""


def json_body(body: bytes) -> Any:
    """The JSON value of a 2xx body (``None`` when it is empty)."""
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise BodyNotJSONError from None


def decode_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    request: str,
    decode: Callable[[bytes], Any] = json_body,
) -> Any:
    """A 2xx body read by ``decode`` (which gets the raw bytes; ``json_body`` by default, or one
    of ``conversion``'s readers); otherwise raise the ``APIStatusError`` for the status.

    ``request`` ("GET /api/v2/classify") only labels messages; it never holds the API key.
    """
    if 200 <= status < 300:
        try:
            return decode(body)
        except BodyNotJSONError:
            raise ResponseValidationError(
                f"{request} answered {status} with a body that is not JSON: {_start(body)}"
            ) from None
    raise _status_error(status, headers, body, request)


def _status_error(
    status: int, headers: Mapping[str, str], body: bytes, request: str
) -> APIStatusError:
    try:
        payload: Any = json.loads(body)
    except ValueError:
        payload = body.decode("utf-8", "replace")
    detail = payload.get("detail", payload) if isinstance(payload, dict) else payload
    return status_error_class(status)(
        f"{request} answered {status}: {_start(detail)}",
        status_code=status,
        body=payload,
        headers=headers,
        retry_after=retry_after(headers),
        should_retry=server_says_retry(headers),
    )


def retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, else ``Retry-After``
    (seconds or an HTTP date). ``None`` when absent or unreadable."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def server_says_retry(headers: Mapping[str, str]) -> bool | None:
    """``x-should-retry: true|false`` overrides our own idea of what is retryable."""
    value = headers.get("x-should-retry", "").strip().lower()
    return {"true": True, "false": False}.get(value)


def _start(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return shorten(value if isinstance(value, str) else json.dumps(value))


def shorten(text: str, limit: int = 200) -> str:
    """The start of a long text, for error messages that stay readable."""
    return text if len(text) <= limit else text[:limit] + "..."
