"""The sans-I/O core: turns (status, headers, body) into JSON or a typed error.

Nothing here touches the network, so every rule about what the service means by a response is
testable with plain values, and the aiohttp adapter in ``transport`` stays a few lines.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from .errors import APIStatusError, ResponseValidationError, status_error_class

__all__ = [
    "BodyNotJSONError",
    "decode_response",
    "job_path",
    "json_body",
    "retry_after",
    "server_says_retry",
    "shorten",
]

JOBS_PATH = "/api/v2/classify"


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
