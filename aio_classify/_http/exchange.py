"""The one place that speaks aiohttp: send a request, return ``(status, headers, body)``.

Why apart: everything above it (the retry policy, the limiter's turn, decoding and error mapping
in ``protocol``) works on those three plain values, so ``transport`` can be driven without a
socket by any function of the same shape (``Send``), and another HTTP stack could be plugged in
here alone (gidgethub's ``_request`` is the model).

A body is read in chunks, after decompression, and never beyond ``max_response_bytes``: a 2xx
body over it is refused here; of an error status only the first ``ERROR_BODY_BYTES`` are read,
since its start says what went wrong.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from yarl import URL

from .._core.errors import APIConnectionError, APIError, APITimeoutError, ResponseValidationError
from .._core.sanitize import detached, redact
from .protocol import Query
from .proxies import Proxy

__all__ = ["ERROR_BODY_BYTES", "Reply", "Send", "send_request"]

ERROR_BODY_BYTES = 2**20
"""Of an error response, only this much is read: its start says what went wrong."""

#: An answer as the layers above read it: status, headers and the (capped) body bytes.
Reply = tuple[int, Mapping[str, str], bytes]
#: What sends one request: ``(method, url, params, json)`` to its ``Reply``.
Send = Callable[[str, URL, Query, Any], Awaitable[Reply]]


async def send_request(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    *,
    params: Query,
    json: Any,
    headers: Mapping[str, str],
    client_timeout: aiohttp.ClientTimeout,
    max_response_bytes: int,
    secret: str,
    proxy: Proxy | None = None,
) -> Reply:
    """Send one request on ``session`` (through ``proxy``, if any); its status, headers and
    body (``max_response_bytes`` at most, after decompression). No answer raises
    ``APIConnectionError`` (``APITimeoutError`` past ``client_timeout``), with ``secret`` and
    the proxy's password taken out of the message; a 2xx body over the cap raises
    ``ResponseValidationError``. (The debug line of each attempt, with the service's request id,
    is ``_observe``'s.)"""
    label = f"{method} {url.path}"
    # Errors are built inside the handlers but raised outside them, with no chain: the
    # aiohttp exceptions hold the request, Authorization header included.
    error: APIError | None = None
    try:
        async with session.request(
            method,
            url,
            params=params or None,
            json=json,
            headers=headers,
            timeout=client_timeout,
            allow_redirects=False,  # never carry the Authorization header elsewhere
            raise_for_status=False,  # even on a caller's session: statuses are ours to map
            proxy=None if proxy is None else proxy.url,
            proxy_headers=None if proxy is None else proxy.connect_headers,
        ) as response:
            status, answer_headers = response.status, response.headers
            limit = max_response_bytes
            if not 200 <= status < 300:
                limit = min(limit, ERROR_BODY_BYTES)
            chunks, complete = await _read_at_most(response, limit)
    except TimeoutError:
        error = APITimeoutError(f"{label} timed out after {client_timeout.total}s")
    except aiohttp.ClientError as exc:
        reason = redact(_cannot_connect(exc, url, proxy) or str(exc), secret)
        error = APIConnectionError(
            f"{label} failed: {reason if proxy is None else proxy.scrub(reason)}"
        )
    if error is not None:
        raise detached(error)
    if not complete and 200 <= status < 300:
        raise detached(
            ResponseValidationError(
                f"{label} answered {status} with more than max_response_bytes="
                f"{max_response_bytes} bytes (after decompression); not read further"
            )
        )
    # An error status keeps its meaning (and its retry) with the start of its body.
    return status, answer_headers, b"".join(chunks)


def _cannot_connect(exc: aiohttp.ClientError, url: URL, proxy: Proxy | None) -> str | None:
    """A refused connection or an unknown host in plain words, naming the URL's origin (or the
    proxy's, when the proxy could not be reached; its URL holds no credentials); None for any
    other failure. aiohttp's own text (``Cannot connect to host 127.0.0.1:8788 ssl:default
    [Connect call failed ...]``) speaks of ssl even for plain http."""
    if not isinstance(exc, aiohttp.ClientConnectorError) or isinstance(exc, aiohttp.ClientSSLError):
        return None
    os_error = exc.os_error
    if os_error.errno and not isinstance(os_error, socket.gaierror):
        reason = os.strerror(os_error.errno)  # "Connection refused", not the call that failed
    else:
        reason = os_error.strerror or str(os_error) or type(os_error).__name__
    if proxy is not None and isinstance(exc, aiohttp.ClientProxyConnectionError):
        return f"cannot connect to the proxy {proxy.url.origin()} ({reason})"
    return f"cannot connect to {url.origin()} ({reason})"


async def _read_at_most(response: aiohttp.ClientResponse, limit: int) -> tuple[list[bytes], bool]:
    """The body's chunks, decompressed, read up to ``limit`` bytes; ``(start, False)`` when
    there was more, and then the connection is closed rather than drained.

    aiohttp inflates a compressed body in bounded steps as we read, so a small gzip bomb never
    grows past what this loop has accepted plus one chunk.
    """
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(2**16):
        size += len(chunk)
        if size > limit:
            chunks.append(chunk[: len(chunk) - (size - limit)])
            response.close()
            return chunks, False
        chunks.append(chunk)
    return chunks, True
