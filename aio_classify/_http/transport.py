"""The aiohttp adapter: one place that sends a request, with retries, and owns the session.

A session passed in by the caller is used as is and never closed (and only from its own event
loop). Ours are made lazily, one per event loop (aiohttp binds a session to its loop), so one
client serves ``asyncio.run`` after ``asyncio.run``; see ``sessions.LoopSessions``.

A response is read in chunks, after decompression, and never beyond ``max_response_bytes``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from .._core.call_kinds import CallKind
from .._core.errors import APIConnectionError, APIError, APITimeoutError, ResponseValidationError
from .._core.sanitize import detached, redact
from .protocol import Query, decode_response
from .retry import RetryPolicy
from .sessions import LoopSessions, check_session_loop
from .throttle import Limiter, in_turn

__all__ = ["Transport"]

_T = TypeVar("_T")

logger = logging.getLogger("aio_classify")

ERROR_BODY_BYTES = 2**20
"""Of an error response, only this much is read: its start says what went wrong."""


class Transport:
    """Sends one API request (retried per ``RetryPolicy``) and returns its decoded JSON."""

    def __init__(
        self,
        *,
        base_url: URL,
        api_key: str,
        timeout: float,
        retry_policy: RetryPolicy,
        max_connections: int,
        session: aiohttp.ClientSession | None,
        limiters: Mapping[CallKind, Limiter],
        max_response_bytes: int = 32 * 2**20,
    ) -> None:
        self.base_url = base_url
        self._prefix = str(base_url).rstrip("/")
        self._api_key = api_key
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.retry_policy = retry_policy
        self._max_response_bytes = max_response_bytes
        self._session = session  # the caller's, if any
        self._sessions = LoopSessions(max_connections)  # ours, one per event loop
        self._limiters = limiters
        self._closed = False

    def __repr__(self) -> str:
        return f"Transport(base_url={str(self.base_url)!r})"

    @property
    def closed(self) -> bool:
        return self._closed

    async def request(
        self,
        method: str,
        path: str,
        *,
        kind: CallKind,
        params: Query = (),
        json: Any = None,
        decode: Callable[[bytes], _T],
    ) -> _T:
        """The 2xx body, as ``decode`` reads its raw bytes (``conversion.read_page``, ...).

        ``path`` must already be percent-encoded (see ``protocol.job_path``); ``kind`` picks
        the limiter that gives each attempt its turn (see ``throttle``).
        """
        send = partial(self._send_once, method, self.url(path), params, json, decode)
        limiter = self._limiters.get(kind)  # each attempt is sent in its turn, if it has one
        attempt = send if limiter is None else partial(in_turn, limiter, send)
        result: _T = await self.retry_policy.call(attempt)
        return result

    def url(self, path: str) -> URL:
        """``base_url`` joined with an already percent-encoded ``path``."""
        return URL(self._prefix + path, encoded=True)

    async def _send_once(
        self, method: str, url: URL, params: Query, json: Any, decode: Callable[[bytes], Any]
    ) -> Any:
        session = await self._get_session()
        label = f"{method} {url.path}"
        started = time.perf_counter()
        # Errors are built inside the handlers but raised outside them, with no chain: the
        # aiohttp exceptions hold the request, Authorization header included.
        error: APIError | None = None
        try:
            async with session.request(
                method,
                url,
                params=params or None,
                json=json,
                headers=self._headers,
                timeout=self._timeout,
                allow_redirects=False,  # never carry the Authorization header elsewhere
                raise_for_status=False,  # even on a caller's session: statuses are ours to map
            ) as response:
                status, headers = response.status, response.headers
                limit = self._max_response_bytes
                if not 200 <= status < 300:
                    limit = min(limit, ERROR_BODY_BYTES)
                chunks, complete = await _read_at_most(response, limit)
        except TimeoutError:
            error = APITimeoutError(f"{label} timed out after {self._timeout.total}s")
        except aiohttp.ClientError as exc:
            reason = _cannot_connect(exc, url) or str(exc)
            error = APIConnectionError(f"{label} failed: {redact(reason, self._api_key)}")
        if error is not None:
            raise detached(error)
        logger.debug("%s -> %d in %.1f ms", label, status, (time.perf_counter() - started) * 1e3)
        if not complete and 200 <= status < 300:
            raise detached(
                ResponseValidationError(
                    f"{label} answered {status} with more than max_response_bytes="
                    f"{self._max_response_bytes} bytes (after decompression); not read further"
                )
            )
        # An error status keeps its meaning (and its retry) with the start of its body.
        body = b"".join(chunks)
        return decode_response(
            status, headers, body, request=label, secret=self._api_key, decode=decode
        )

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this ClassifyClient is closed; create a new one")
        if self._session is not None:
            return check_session_loop(self._session)
        return await self._sessions.current()

    async def close(self) -> None:
        """Close the sessions we created; a caller's session is left open."""
        if self._closed:
            return
        self._closed = True
        await self._sessions.close()


def _cannot_connect(exc: aiohttp.ClientError, url: URL) -> str | None:
    """A refused connection or an unknown host in plain words, naming the URL's origin; None
    for any other failure. aiohttp's own text (``Cannot connect to host 127.0.0.1:8788
    ssl:default [Connect call failed ...]``) speaks of ssl even for plain http."""
    if not isinstance(exc, aiohttp.ClientConnectorError) or isinstance(exc, aiohttp.ClientSSLError):
        return None
    os_error = exc.os_error
    if os_error.errno and not isinstance(os_error, socket.gaierror):
        reason = os.strerror(os_error.errno)  # "Connection refused", not the call that failed
    else:
        reason = os_error.strerror or str(os_error) or type(os_error).__name__
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
