"""The aiohttp adapter: one place that sends a request, with retries, and owns the session.

A session passed in by the caller is used as is and never closed; one we create is made
lazily inside the running loop (aiohttp binds a session to its loop) and closed exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from .errors import APIConnectionError, APITimeoutError
from .protocol import Query, decode_response
from .retry import RetryPolicy
from .throttle import CallKind, Limiter, in_turn

__all__ = ["Transport"]

_T = TypeVar("_T")

logger = logging.getLogger("aio_classify")


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
    ) -> None:
        self.base_url = base_url
        self._prefix = str(base_url).rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.retry_policy = retry_policy
        self._max_connections = max_connections
        self._session = session
        self._owns_session = session is None
        self._limiters = limiters
        self._closed = False

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
        attempt = partial(self._attempt, kind, method, self.url(path), params, json, decode)
        result: _T = await self.retry_policy.call(attempt)
        return result

    async def _attempt(
        self,
        kind: CallKind,
        method: str,
        url: URL,
        params: Query,
        json: Any,
        decode: Callable[[bytes], Any],
    ) -> Any:
        """One attempt: sent when the call kind's limiter gives it a turn, if it has one."""
        send = partial(self._send_once, method, url, params, json, decode)
        limiter = self._limiters.get(kind)
        return await (send() if limiter is None else in_turn(limiter, send))

    def url(self, path: str) -> URL:
        """``base_url`` joined with an already percent-encoded ``path``."""
        return URL(self._prefix + path, encoded=True)

    async def _send_once(
        self, method: str, url: URL, params: Query, json: Any, decode: Callable[[bytes], Any]
    ) -> Any:
        session = self._get_session()
        label = f"{method} {url.path}"
        started = time.perf_counter()
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
                body = await response.read()
                status, headers = response.status, response.headers
        except TimeoutError:
            raise APITimeoutError(f"{label} timed out after {self._timeout.total}s") from None
        except aiohttp.ClientError as exc:
            raise APIConnectionError(f"{label} failed: {exc}") from None
        logger.debug("%s -> %d in %.1f ms", label, status, (time.perf_counter() - started) * 1e3)
        return decode_response(status, headers, body, request=label, decode=decode)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this ClassifyClient is closed; create a new one")
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def close(self) -> None:
        """Close the session if we created it; a caller's session is left open."""
        if self._closed:
            return
        self._closed = True
        session, self._session = self._session, None
        if self._owns_session and session is not None:
            await session.close()
