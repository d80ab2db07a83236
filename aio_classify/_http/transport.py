"""One API request, end to end: each attempt in its limiter's turn, retried per the policy,
sent through the seam (``exchange``), and its ``(status, headers, body)`` decoded or mapped to
an error (``protocol.decode_response``). It also owns the sessions.

Why: the steps above the seam are plain Python on plain values, so a test can hand the transport
its own ``Send`` and drive retries, turns and decoding without a socket.

A session passed in by the caller is used as is and never closed (and only from its own event
loop). Ours are made lazily, one per event loop (aiohttp binds a session to its loop), so one
client serves ``asyncio.run`` after ``asyncio.run``; see ``sessions.LoopSessions``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from .._core.call_kinds import CallKind
from .._observe import RequestWatch, Telemetry
from .deadline import Deadline
from .exchange import Reply, Send, send_request
from .protocol import Query, decode_response
from .proxies import Proxy
from .request_options import CallOptions, base_headers
from .sessions import LoopSessions, check_session_loop
from .throttle import Limiter, TurnBudget, in_turn

__all__ = ["Transport"]

_T = TypeVar("_T")


class Transport:
    """Sends one API request (retried per ``RetryPolicy``) and returns its decoded JSON."""

    def __init__(
        self,
        *,
        base_url: URL,
        api_key: str,
        options: CallOptions,
        max_connections: int,
        session: aiohttp.ClientSession | None,
        limiters: Mapping[CallKind, Limiter[Any]],
        max_response_bytes: int = 32 * 2**20,
        default_headers: Mapping[str, str] | None = None,
        proxy: Proxy | None = None,
        send: Send | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.base_url = base_url
        self._prefix = str(base_url).rstrip("/")
        self._api_key = api_key
        self._base_headers = base_headers(api_key, default_headers or {})
        self._base_headers.update(proxy.request_headers if proxy else {})
        self._max_response_bytes = max_response_bytes
        self._proxy = proxy
        self._session = session  # the caller's, if any
        self._sessions = LoopSessions(max_connections)  # ours, one per event loop
        #: What each request reports (logs; spans and metrics with OpenTelemetry).
        self.telemetry = telemetry or Telemetry(api_key)
        self._limiters = self.telemetry.limiters(limiters)
        #: How each attempt is sent: over aiohttp unless a test gives another ``Send``.
        self._custom_send = send
        self._owns_sessions = True
        self._closed = False  # this view's own state; ``_sessions.closed`` is everyone's
        self._use(options)

    def _use(self, options: CallOptions) -> None:
        self.options = options
        self._timeout = aiohttp.ClientTimeout(total=options.timeout)
        self._headers = options.headers(self._base_headers)

    def with_options(self, options: CallOptions) -> Transport:
        """A view sending with ``options`` over this transport's sessions and limiters."""
        view = copy.copy(self)
        view._use(options)
        view._owns_sessions = False
        view._closed = False
        return view

    def __repr__(self) -> str:
        return f"Transport(base_url={str(self.base_url)!r})"

    @property
    def closed(self) -> bool:
        return self._closed or self._sessions.closed

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
        options = self.options
        if options.extra_query:
            params = [*params, *options.extra_query]
        url = self.url(path)
        watch = self.telemetry.request(method, url, kind, params)
        send = partial(self._send_once, watch, method, url, params, json, decode)
        limiter = self._limiters.get(kind)  # each attempt is sent in its turn, if it has one
        if limiter is None:
            attempt = send
        else:  # one allowance of waiting for turns for the whole call, all attempts together
            budget = TurnBudget(options.retry_policy.max_throttle_wait, kind)
            attempt = partial(in_turn, limiter, send, budget)
        deadline = None
        if options.total_timeout is not None:
            deadline = Deadline(options.total_timeout, f"{method} {url.path}")
        result: _T = await options.retry_policy.call(attempt, deadline, before_retry=watch.retrying)
        return result

    def check_open(self) -> None:
        """Raise ``RuntimeError`` once this view (or the client it belongs to) is closed."""
        if self.closed:
            raise RuntimeError("this ClassifyClient is closed; create a new one")

    def url(self, path: str) -> URL:
        """``base_url`` joined with an already percent-encoded ``path``."""
        return URL(self._prefix + path, encoded=True)

    async def _send_once(
        self,
        watch: RequestWatch,
        method: str,
        url: URL,
        params: Query,
        json: Any,
        decode: Callable[[bytes], Any],
    ) -> Any:
        self.check_open()
        send = partial(self._custom_send or self._send_with_aiohttp, method, url, params, json)
        status, headers, body = await watch.exchange(send)
        return decode_response(
            status,
            headers,
            body,
            request=f"{method} {url.path}",
            secret=self._api_key,
            decode=decode,
        )

    async def _send_with_aiohttp(self, method: str, url: URL, params: Query, json: Any) -> Reply:
        return await send_request(
            await self._get_session(),
            method,
            url,
            params=params,
            json=json,
            headers=self.telemetry.outgoing(self._headers),
            client_timeout=self._timeout,
            max_response_bytes=self._max_response_bytes,
            secret=self._api_key,
            proxy=self._proxy,
        )

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is not None:
            return check_session_loop(self._session)
        return await self._sessions.current()

    async def close(self) -> None:
        """Finish the limiters' background reports, close the sessions we created (a caller's
        session is left open); a view only marks itself closed."""
        if self.closed:
            return
        self._closed = True
        if not self._owns_sessions:
            return
        for limiter in self._limiters.values():
            await limiter.aclose()
        await self._sessions.close()
