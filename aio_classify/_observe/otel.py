"""Spans and metrics through ``opentelemetry-api``; imported only when the API is installed.

Why the API alone: a library reports through the API and leaves the SDK (what is kept, where it
is sent) to the application. Without an SDK configured the API's no-op tracer and meter answer,
so the cost is a few cheap calls per request (measured in ``benchmarks/bench_otel.py``).

Spans follow the HTTP client semantic conventions: one CLIENT span per attempt, named after the
method, with ``http.request.method``, ``server.address``, ``server.port``, ``url.full`` (without
user or password; the API key travels in a header and is never recorded),
``http.response.status_code``, ``error.type`` (the status of a 4xx/5xx answer, else the
exception's class name) and ``http.request.resend_count`` on a retry. Each is the child of the
INTERNAL span of its logical call (``aio_classify get_job``, ...), current while the attempt is
sent, so its ``traceparent`` goes out with the request.

A wait for a throttling turn of at least ``MIN_VISIBLE_WAIT`` is a child span of its own,
``aio_classify throttle wait``, not an event: in a trace view the gap before an attempt then
has a name and a length, in the same waterfall as the attempts. Turns that wait for nothing
make no span (most of them), but every turn's wait goes into the ``aio_classify.throttle.wait``
histogram. Instrument names are listed in ``INSTRUMENTS`` (and in docs/guides/observability.md).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from tenacity import RetryCallState
from yarl import URL

from .._core.call_kinds import CallKind
from .._core.errors import APIConnectionError, APIStatusError, APITimeoutError
from .._core.models import ClassifyJob
from .plain import (
    DeliveryOutcome,
    Query,
    Reply,
    RequestWatch,
    RoundScope,
    Telemetry,
    request_id_of,
)

__all__ = ["INSTRUMENTS", "MIN_VISIBLE_WAIT", "OtelTelemetry"]

#: The instrumentation scope: the tracer's and the meter's name.
SCOPE = "aio_classify"
#: A throttling wait at least this long (seconds) gets a span of its own.
MIN_VISIBLE_WAIT = 0.001

CALL_KIND = "aio_classify.call_kind"

_T = TypeVar("_T")

#: Every instrument: name, unit, description.
INSTRUMENTS: dict[str, tuple[str, str]] = {
    "http.client.request.duration": ("s", "Duration of HTTP client requests (each attempt)."),
    "aio_classify.retries": ("{retry}", "Requests sent again, by call kind and reason."),
    "aio_classify.throttle.wait": ("s", "Time a request waited for its throttling turn."),
    "aio_classify.throttled": ("{response}", "429 answers, by call kind."),
    "aio_classify.jobs.finished": ("{job}", "Jobs a wait saw finished, by status."),
    "aio_classify.webhook.deliveries": ("{delivery}", "Webhook deliveries, by outcome."),
}


def _sdk_configured() -> bool:
    """Whether an application has set a global tracer or meter provider. Until it does, the
    API's providers are proxies whose spans and instruments record nothing, and every call into
    them would be cost without effect (measured: about 15% of a listing's CPU); the client then
    takes the logs-only path, and starts reporting on the first call after a provider is set."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider) or not (
        type(metrics.get_meter_provider()).__name__.startswith("_Proxy")
    )


class OtelTelemetry(Telemetry):
    """Logs, spans and metrics, through the providers given or the global ones.

    With the global providers and no SDK configured (``_sdk_configured``), each hook falls back
    to the logs-only ``Telemetry``; providers given explicitly are always reported to."""

    def __init__(
        self, tracer_provider: Any = None, meter_provider: Any = None, secret: str | None = None
    ) -> None:
        super().__init__(secret)
        self._explicit = tracer_provider is not None or meter_provider is not None
        self.tracer = trace.get_tracer(SCOPE, tracer_provider=tracer_provider)
        meter = metrics.get_meter(SCOPE, meter_provider=meter_provider)

        def instrument(create: Callable[..., Any], name: str) -> Any:
            unit, description = INSTRUMENTS[name]
            return create(name, unit=unit, description=description)

        self.duration = instrument(meter.create_histogram, "http.client.request.duration")
        self.retries = instrument(meter.create_counter, "aio_classify.retries")
        self.throttle_wait = instrument(meter.create_histogram, "aio_classify.throttle.wait")
        self.throttled = instrument(meter.create_counter, "aio_classify.throttled")
        self.finished = instrument(meter.create_counter, "aio_classify.jobs.finished")
        self.deliveries = instrument(meter.create_counter, "aio_classify.webhook.deliveries")

    def active(self) -> bool:
        """Whether anything would record what this telemetry reports, now."""
        return self._explicit or _sdk_configured()

    def call(self, name: str, kind: CallKind) -> Any:
        if not self.active():
            return super().call(name, kind)
        return self.tracer.start_as_current_span(
            f"aio_classify {name}", kind=SpanKind.INTERNAL, attributes={CALL_KIND: kind}
        )

    def watch_round(self, looked_at: int) -> Any:
        if not self.active():
            return super().watch_round(looked_at)
        return self._traced_round(looked_at)

    @contextmanager
    def _traced_round(self, looked_at: int) -> Iterator[RoundScope]:
        """The round's span is never current across the round (it yields jobs between steps,
        and a context attached in one step must be detached in that step): ``TracedRound.run``
        makes it current around each step instead."""
        span = self.tracer.start_span(
            "aio_classify watch round",
            kind=SpanKind.INTERNAL,
            attributes={"aio_classify.jobs.requested": looked_at},
        )
        try:
            yield TracedRound(span)
        except Exception as exc:  # not a cancellation, not the generator closed
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR))
            raise
        finally:
            span.end()

    def request(self, method: str, url: URL, kind: CallKind, params: Query = ()) -> RequestWatch:
        if not self.active():
            return super().request(method, url, kind, params)
        return TracedRequest(self, method, url, kind, params)

    def limiters(self, limiters: Mapping[CallKind, Any]) -> Mapping[CallKind, Any]:
        return {kind: TimedLimiter(self, kind, limiter) for kind, limiter in limiters.items()}

    def outgoing(self, headers: Mapping[str, str]) -> Mapping[str, str]:
        if not self.active():
            return headers
        carrier = dict(headers)
        propagate.inject(carrier)
        return carrier

    def job_finished(self, job: ClassifyJob) -> None:
        if not self.active():
            return
        self.finished.add(1, {"aio_classify.job.status": str(job.status)})

    def delivery(self, outcome: DeliveryOutcome) -> None:
        if not self.active():
            return
        self.deliveries.add(1, {"aio_classify.webhook.outcome": outcome})


class TracedRequest(RequestWatch):
    """A request whose attempts are CLIENT spans and ``http.client.request.duration`` points."""

    __slots__ = ("_base", "_telemetry")

    def __init__(
        self, telemetry: OtelTelemetry, method: str, url: URL, kind: CallKind, params: Query
    ) -> None:
        super().__init__(telemetry, method, url, kind, params)
        self._telemetry = telemetry
        #: The attributes every attempt's span and duration carry.
        self._base: dict[str, Any] = {
            "http.request.method": method,
            "server.address": url.host or "",
            "server.port": url.port or 0,
        }

    async def exchange(self, send: Callable[[], Awaitable[Reply]]) -> Reply:
        attributes = self._base
        if self.attempts:
            attributes = {**attributes, "http.request.resend_count": self.attempts}
        span = self._telemetry.tracer.start_span(
            self.method, kind=SpanKind.CLIENT, attributes=attributes
        )
        with trace.use_span(
            span, end_on_exit=True, record_exception=False, set_status_on_exception=False
        ):
            return await super().exchange(send)

    def ended(
        self,
        elapsed: float,
        status: int | None,
        headers: Mapping[str, str] | None,
        failure: BaseException | None,
    ) -> None:
        super().ended(elapsed, status, headers, failure)
        answer: dict[str, Any] = {}
        if status is not None:
            answer["http.response.status_code"] = status
        if failure is not None and not isinstance(failure, APIStatusError):
            answer["error.type"] = type(failure).__qualname__
        elif status is not None and status >= 400:
            answer["error.type"] = str(status)
        self._telemetry.duration.record(elapsed, {**self._base, **answer})
        if status == 429:
            self._telemetry.throttled.add(1, {CALL_KIND: self.kind})
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attributes(answer)
            span.set_attribute("url.full", self.full_url())
            request_id = request_id_of(headers, self.telemetry.secret)
            if request_id is not None:
                span.set_attribute("aio_classify.request_id", request_id)
            if "error.type" in answer:
                span.set_status(Status(StatusCode.ERROR))

    def retrying(self, state: RetryCallState) -> None:
        super().retrying(state)
        exc = state.outcome.exception() if state.outcome else None
        reason = {CALL_KIND: self.kind, "aio_classify.retry.reason": retry_reason(exc)}
        self._telemetry.retries.add(1, reason)


class TracedRound:
    """A polling round's span: counts set on it, each step run with it current."""

    __slots__ = ("_span",)

    def __init__(self, span: trace.Span) -> None:
        self._span = span

    def set_attribute(self, key: str, value: Any) -> None:
        self._span.set_attribute(key, value)

    async def run(self, step: Awaitable[_T]) -> _T:
        with trace.use_span(
            self._span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        ):
            return await step


def retry_reason(exc: BaseException | None) -> str:
    """Why a request is sent again, in few words: its status, ``timeout`` or ``connection``."""
    if isinstance(exc, APIStatusError):
        return str(exc.status_code)
    if isinstance(exc, APITimeoutError):
        return "timeout"
    if isinstance(exc, APIConnectionError):
        return "connection"
    return type(exc).__qualname__


class TimedLimiter:
    """A call kind's limiter whose waits for a turn are measured (and traced when long)."""

    __slots__ = ("_attributes", "_limiter", "_telemetry")

    def __init__(self, telemetry: OtelTelemetry, kind: CallKind, limiter: Any) -> None:
        self._telemetry = telemetry
        self._limiter = limiter
        self._attributes = {CALL_KIND: kind}

    async def acquire(self) -> Any:
        if not self._telemetry.active():
            return await self._limiter.acquire()
        started, started_ns = time.perf_counter(), time.time_ns()
        turn = await self._limiter.acquire()
        waited = time.perf_counter() - started
        self._telemetry.throttle_wait.record(waited, self._attributes)
        if waited >= MIN_VISIBLE_WAIT:
            span = self._telemetry.tracer.start_span(
                "aio_classify throttle wait",
                start_time=started_ns,
                attributes={**self._attributes, "aio_classify.throttle.wait": waited},
            )
            span.end(end_time=started_ns + int(waited * 1e9))
        return turn

    def report(self, turn: Any, outcome: Any, retry_after: float | None = None) -> None:
        self._limiter.report(turn, outcome, retry_after)

    async def aclose(self) -> None:
        await self._limiter.aclose()
