"""The reporting every client does, OpenTelemetry or not: one DEBUG record per HTTP attempt and
one INFO record per retry, on the ``aio_classify`` logger, with structured fields.

Why apart from ``otel``: without ``opentelemetry-api`` this is all that runs, and it must cost
next to nothing (no span or metric object is made; the hooks the transport and the client call
are plain methods that return at once). ``otel.OtelTelemetry`` extends these classes.

Every record carries, as attributes (``extra``): ``call_kind``, ``attempt`` (1 for the first),
``status`` (the HTTP status, or ``None`` without an answer), ``request_id`` (the service's
``x-request-id``, made printable and bounded, or ``None``) and ``elapsed`` (seconds). No record
holds a credential: the URL is logged by path only and headers never.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import nullcontext
from typing import Any, Literal, Protocol, TypeVar

from tenacity import RetryCallState
from yarl import URL

from .._core.call_kinds import CallKind
from .._core.errors import APIStatusError
from .._core.models import ClassifyJob
from .._core.sanitize import one_line, redact

__all__ = [
    "REQUEST_ID_HEADER",
    "CallScope",
    "RequestWatch",
    "RoundScope",
    "Telemetry",
    "log_retry",
    "request_id_of",
]

logger = logging.getLogger("aio_classify")

#: The header in which the service names each request it answered.
REQUEST_ID_HEADER = "x-request-id"
#: The longest request id kept (the header is server text).
MAX_REQUEST_ID_CHARS = 128

_T = TypeVar("_T")

#: A request's query: name-value pairs (``protocol.Query``).
Query = Sequence[tuple[str, str]]
#: What an attempt returns: status, headers and body (``exchange.Reply``).
Reply = tuple[int, Mapping[str, str], bytes]
#: A webhook delivery's fate, as the receiver counts it.
DeliveryOutcome = Literal["accepted", "duplicate", "refused"]


def request_id_of(headers: Mapping[str, str] | None, secret: str | None) -> str | None:
    """The service's request id from ``headers``, ``secret`` (the API key) taken out, printable
    and bounded; ``None`` if absent."""
    return shown_request_id(headers.get(REQUEST_ID_HEADER) if headers else None, secret)


def shown_request_id(value: str | None, secret: str | None) -> str | None:
    """A request id as it may be recorded: ``secret`` taken out, printable, bounded."""
    return None if value is None else one_line(redact(value, secret), MAX_REQUEST_ID_CHARS)


def log_retry(state: RetryCallState, fields: Mapping[str, Any] | None = None) -> None:
    """The INFO record of a retry (tenacity's ``before_sleep``): which attempt failed, why, and
    how long until the next; ``fields`` are its structured fields, when known."""
    exc = state.outcome.exception() if state.outcome else None
    sleep = state.next_action.sleep if state.next_action else 0.0
    logger.info(
        "attempt %d failed (%s); retrying in %.2fs", state.attempt_number, exc, sleep, extra=fields
    )


class CallScope(Protocol):
    """What a logical call may note on its span: counts of jobs, an id."""

    def set_attribute(self, key: str, value: Any) -> None: ...


class RoundScope(CallScope, Protocol):
    """A polling round: it notes counts, and runs each step of the round under its span."""

    def run(self, step: Awaitable[_T]) -> Awaitable[_T]: ...


class _NoScope:
    """The scope of a call or round nobody traces: it notes nothing."""

    __slots__ = ()

    def set_attribute(self, key: str, value: Any) -> None:
        pass

    def run(self, step: Awaitable[_T]) -> Awaitable[_T]:
        return step


#: Stateless, so one instance serves every call at once.
_NO_SCOPE = nullcontext(_NoScope())


class Telemetry:
    """What a client reports without OpenTelemetry: the log records of its requests.

    ``secret`` (the API key) is taken out of the server text it records (a request id).
    """

    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret

    def call(self, name: str, kind: CallKind) -> Any:
        """A context manager around one logical call (``list_jobs`` page, ``get_jobs``, ...);
        it gives a ``CallScope``."""
        return _NO_SCOPE

    def watch_round(self, looked_at: int) -> Any:
        """A context manager around one polling round over ``looked_at`` jobs; it gives a
        ``RoundScope``."""
        return _NO_SCOPE

    def request(self, method: str, url: URL, kind: CallKind, params: Query = ()) -> RequestWatch:
        """The watch over one request (``params``: its query) and its retries."""
        return RequestWatch(self, method, url, kind, params)

    def limiters(self, limiters: Mapping[CallKind, Any]) -> Mapping[CallKind, Any]:
        """The limiters the transport should use (the same ones, here: no wait is measured)."""
        return limiters

    def outgoing(self, headers: Mapping[str, str]) -> Mapping[str, str]:
        """The headers to send with an attempt (with a ``traceparent`` when traced)."""
        return headers

    def job_finished(self, job: ClassifyJob) -> None:
        """A wait saw ``job`` end (counted by status when metrics are on)."""

    def delivery(self, outcome: DeliveryOutcome) -> None:
        """A webhook delivery was accepted, a duplicate, or refused."""


class RequestWatch:
    """One request as the transport sends it: each attempt (``exchange``) and each retry."""

    __slots__ = ("attempts", "kind", "method", "params", "telemetry", "url")

    def __init__(
        self, telemetry: Telemetry, method: str, url: URL, kind: CallKind, params: Query = ()
    ) -> None:
        self.telemetry = telemetry
        self.method = method
        self.url = url
        self.kind = kind
        self.params = params
        self.attempts = 0

    def full_url(self) -> str:
        """The URL with its query and without user or password (the key is never in it)."""
        return str(self.url.with_user(None).with_query(list(self.params) or None))

    async def exchange(self, send: Callable[[], Awaitable[Reply]]) -> Reply:
        """``await send()``: one attempt, logged at DEBUG with its status and request id."""
        self.attempts += 1
        started = time.perf_counter()
        try:
            reply = await send()
        except BaseException as exc:
            self.ended(time.perf_counter() - started, None, None, exc)
            raise
        self.ended(time.perf_counter() - started, reply[0], reply[1], None)
        return reply

    def ended(
        self,
        elapsed: float,
        status: int | None,
        headers: Mapping[str, str] | None,
        failure: BaseException | None,
    ) -> None:
        """An attempt ended with an answer (``status``, ``headers``) or without (``failure``)."""
        if not logger.isEnabledFor(logging.DEBUG):
            return
        request_id = request_id_of(headers, self.telemetry.secret)
        outcome = str(status) if failure is None else type(failure).__name__
        logger.debug(
            "%s %s -> %s in %.1f ms%s",
            self.method,
            self.url.path,
            outcome,
            elapsed * 1e3,
            "" if request_id is None else f" (request id {request_id})",
            extra=self.fields(status, request_id, elapsed),
        )

    def retrying(self, state: RetryCallState) -> None:
        """Tenacity's ``before_sleep``: an attempt failed and another follows; logged at INFO."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, APIStatusError):
            status = exc.status_code
            request_id = shown_request_id(exc.request_id, self.telemetry.secret)
        else:
            status, request_id = None, None
        log_retry(state, self.fields(status, request_id, state.seconds_since_start))

    def fields(
        self, status: int | None, request_id: str | None, elapsed: float | None
    ) -> dict[str, Any]:
        """The structured fields of this request's log records."""
        return {
            "call_kind": self.kind,
            "attempt": self.attempts,
            "status": status,
            "request_id": request_id,
            "elapsed": elapsed,
        }
