"""Receiving the service's webhook deliveries: verify, parse, drop repeats, fan out to waits.

Why a module of its own: an event only says "job X changed"; it is untrusted input arriving on
the user's own HTTP server, at least once and in any order. This module turns raw deliveries into
``WebhookEvent`` records (``parse_event``), checks their ``LC-Signature`` (``verify_signature``)
and, in ``WebhookReceiver``, drops repeats and hands each new terminal event to every wait that
subscribed. What a wait does with it (fetch the record, which alone decides) is
``polling``'s concern.

A receiver holds no event-loop-bound object: each subscription makes its own primitives on the
loop of the wait that opens it, and deliveries from another thread or loop reach it through
``call_soon_threadsafe``. So one receiver serves any number of concurrent waits, from one event
loop after another, behind aiohttp.web (``receiver.handle``) or any framework
(``receiver.accept``).

With a coordinator (``aio_classify.redis``), a terminal event goes through its ``EventBus``: the
first process to claim the event id publishes the job id and every process's subscriptions get it
from the bus, so a delivery landing on one worker wakes the waits of all, and a duplicate landing
on another is handled once. When the bus cannot be reached, the event fans out locally as
without a coordinator.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Container, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType, TracebackType
from typing import Any, Self

from aiohttp import web
from attrs import field, frozen

from ._core.dates import to_utc
from ._core.sanitize import shorten
from ._http.coordination import Coordinator, EventBus, check_coordinator
from ._observe import build_telemetry
from ._validation import check_bool, check_int, check_seconds

__all__ = [
    "BODY_TIMEOUT",
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "MAX_BODY_BYTES",
    "SHARED_MEMORY",
    "SIGNATURE_HEADER",
    "TERMINAL_EVENT_TYPES",
    "TOLERANCE",
    "EventSubscription",
    "WebhookEvent",
    "WebhookReceiver",
    "WebhookSignatureError",
    "parse_event",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "LC-Signature"
"""The header holding ``sha256=<hex HMAC-SHA256 of the raw body>`` when a secret is set."""

EVENT_ID_HEADER = "X-Webhook-Event-ID"
"""The header repeating the event's ``event_id``."""

EVENT_TYPE_HEADER = "X-Webhook-Event-Type"
"""The header repeating the event's ``event_type``."""

TERMINAL_EVENT_TYPES = frozenset(
    {"classify.success", "classify.error", "classify.cancelled", "classify.partial_success"}
)
"""Event types after which a job changes no more: only these make a wait look the job up."""

MAX_BODY_BYTES = 64 * 1024
"""A real event is a few hundred bytes; anything past this is refused unread."""

TOLERANCE = 300.0
"""Seconds a signed delivery's ``timestamp`` may lie in the past or future (as Stripe, Svix and
the Standard Webhooks spec do): a captured delivery cannot be replayed later."""

BODY_TIMEOUT = 10.0
"""Seconds ``handle`` gives a sender to deliver a whole body: a real one takes milliseconds; a
trickling sender must not hold the handler forever."""

SHARED_MEMORY = 600.0
"""Seconds, at least, a coordinator remembers an event id to drop repeats across processes (the
receiver's ``tolerance`` when that is longer)."""

_DIGEST_CHARS = frozenset("0123456789abcdef")
_SHOWN = 80  # characters of untrusted text an error message may quote
_log = logging.getLogger(__name__)


class WebhookSignatureError(ValueError):
    """A delivery without a valid ``LC-Signature`` while the receiver has a secret (map to 401)."""


@frozen
class WebhookEvent:
    """One delivery's event, as ``parse_event`` reads it.

    Attributes:
        event_id: The service's id of this event; repeats of a delivery share it.
        event_type: E.g. ``"classify.success"``; see ``is_terminal``.
        job_id: The job the event is about (``data.job_id`` or ``data.id``).
        timestamp: When the event happened, timezone-aware.
        data: The event's ``data`` object as sent, read-only.
    """

    event_id: str
    event_type: str
    job_id: str
    timestamp: datetime
    data: Mapping[str, Any] = field(eq=False, hash=False)

    @property
    def is_terminal(self) -> bool:
        """True for success, error, cancelled and partial_success: the job has ended."""
        return self.event_type in TERMINAL_EVENT_TYPES


def sign(body: bytes | str, secret: str | bytes) -> str:
    """The ``LC-Signature`` value for ``body``: ``"sha256=<hex HMAC-SHA256 of the raw body>"``."""
    key = _as_bytes(secret, "secret")
    if not key:
        raise ValueError("secret must not be empty")
    return "sha256=" + hmac.new(key, _as_bytes(body, "body"), hashlib.sha256).hexdigest()


def verify_signature(body: bytes | str, header: str | None, secret: str | bytes) -> bool:
    """Whether ``header`` (``"sha256=<hex>"``, hex in either case) is the HMAC-SHA256 of the raw
    ``body`` under ``secret``. Compared in constant time; anything malformed is ``False``."""
    expected = sign(body, secret).encode()
    if not isinstance(header, str):
        return False
    scheme, separator, digest = header.strip().partition("=")
    digest = digest.strip().lower()
    if not separator or scheme.strip().lower() != "sha256" or not _DIGEST_CHARS.issuperset(digest):
        return False
    return hmac.compare_digest(expected, b"sha256=" + digest.encode())


def parse_event(
    body: bytes | str,
    headers: Mapping[str, str] | None = None,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> WebhookEvent:
    """The event in a delivery body, in either output format ("json": the object; "string":
    a JSON string holding it). The job id is read from ``data.job_id`` or ``data.id``; a missing
    ``event_id`` / ``event_type`` is taken from the ``X-Webhook-Event-*`` headers, and an
    ``X-Webhook-Event-ID`` header naming another event than the body is refused.

    Anything else (a body over ``max_body_bytes`` included) raises ``ValueError`` with a short
    message that quotes at most a few escaped characters of what was sent.
    """
    raw = _as_bytes(body, "body")
    limit = check_int(max_body_bytes, "max_body_bytes", low=1)
    if len(raw) > limit:
        raise ValueError(f"not a webhook event: the body has {len(raw)} bytes (> {limit})")
    payload = _json(raw)
    if isinstance(payload, str):  # output format "string": the object, encoded once more
        payload = _json(payload.encode())
    if not isinstance(payload, dict):
        raise ValueError(f"not a webhook event: the body is a JSON {type(payload).__name__}")
    given = _lowered(headers)
    data = payload.get("data")
    if not isinstance(data, dict):
        raise ValueError("not a webhook event: 'data' is missing or not an object")
    header_id = given.get(EVENT_ID_HEADER.lower())
    event_id = _text(payload.get("event_id", header_id), "event_id")
    if header_id is not None and header_id != event_id:
        raise ValueError(f"not a webhook event: the {EVENT_ID_HEADER} header names another event")
    return WebhookEvent(
        event_id=event_id,
        event_type=_text(
            payload.get("event_type", given.get(EVENT_TYPE_HEADER.lower())), "event_type"
        ),
        job_id=_job_id(data),
        timestamp=_timestamp(payload.get("timestamp")),
        data=MappingProxyType(dict(data)),
    )


class WebhookReceiver:
    """Accepts deliveries, drops repeats, and hands each new event to the waits subscribed.

    ``secret``: the configuration's ``webhook_signing_secret``, or a list of them while one is
    rotated (a delivery signed with any is accepted); a delivery without a valid signature is
    refused. Without a secret every delivery is refused unless ``allow_unsigned=True`` (tests,
    private networks): an open endpoint could be driven by anyone who finds its URL.
    ``tolerance``: seconds a signed delivery's timestamp may lie in the past or future (``None``:
    not checked). ``remember``: how many recent event ids are kept to drop repeats (the oldest is
    forgotten first). ``max_body_bytes``: bigger deliveries are refused unread. ``body_timeout``:
    seconds ``handle`` waits for a whole body. ``coordinator``: shares events with the receivers
    of other processes (see ``aio_classify.redis``). ``clock``: Unix seconds now (for tests).
    ``meter_provider``: with ``opentelemetry-api`` installed, deliveries are counted by outcome
    (``aio_classify.webhook.deliveries``) through it, or through the global one when ``None``.
    """

    def __init__(
        self,
        secret: str | bytes | Sequence[str | bytes] | None = None,
        *,
        tolerance: float | None = TOLERANCE,
        allow_unsigned: bool = False,
        remember: int = 10_000,
        max_body_bytes: int = MAX_BODY_BYTES,
        body_timeout: float = BODY_TIMEOUT,
        coordinator: Coordinator | None = None,
        clock: Callable[[], float] = time.time,
        meter_provider: Any = None,
    ) -> None:
        self._secrets = _secrets(secret)
        self._tolerance = None if tolerance is None else check_seconds(tolerance, "tolerance")
        #: Seconds the coordinator remembers a claimed event id: no shorter than the window in
        #: which a replay of it would pass the timestamp check.
        self._claim_ttl = max(SHARED_MEMORY, self._tolerance or 0.0)
        self._allow_unsigned = check_bool(allow_unsigned, "allow_unsigned")
        self._remember = check_int(remember, "remember", low=1)
        self._max_body_bytes = check_int(max_body_bytes, "max_body_bytes", low=1)
        self._body_timeout = check_seconds(body_timeout, "body_timeout")
        self._clock = clock
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._subscriptions: set[EventSubscription] = set()
        self._lock = threading.Lock()  # accept() may run in a framework's worker threads
        self._bus: EventBus | None = None
        if coordinator is not None:
            self._bus = check_coordinator(coordinator).event_bus()
        self._sharing: set[asyncio.Task[None]] = set()
        self._telemetry = build_telemetry(meter_provider=meter_provider)

    def __repr__(self) -> str:
        if self._secrets:
            signed = f"signed ({len(self._secrets)} secret(s))"
        else:
            signed = "unsigned allowed" if self._allow_unsigned else "no secret: refuses all"
        return f"<WebhookReceiver {signed}, {len(self._subscriptions)} subscription(s)>"

    def accept(self, body: bytes | str, headers: Mapping[str, str]) -> WebhookEvent | None:
        """Take one delivery: its event, or ``None`` for a repeat of an event this receiver
        already accepted (among its last ``remember`` ids).

        Raises ``WebhookSignatureError`` (a ``ValueError``) for a missing or wrong signature, or
        for any delivery when the receiver has no secret and ``allow_unsigned`` is off; and
        ``ValueError`` for a body that is not an event (one over ``max_body_bytes`` included,
        refused before any hashing or parsing) or a signed event outside ``tolerance``.

        With a coordinator, ``accept`` stays synchronous, so it knows only what this process has
        seen: a repeat of an event first accepted by another process is returned as new. It is
        still handled once: the terminal event goes to the coordinator in the background, where
        the first process to claim its id publishes it to every process's waits and any other
        drops it, so the repeat never reaches a wait. Code that acts on the returned event itself
        (rather than through waits) should deduplicate by ``event_id`` on its own. Await
        ``flush()`` before answering the delivery.
        """
        try:
            event = self._accept(body, headers)
        except ValueError:
            self._telemetry.delivery("refused")
            raise
        self._telemetry.delivery("duplicate" if event is None else "accepted")
        return event

    def _accept(self, body: bytes | str, headers: Mapping[str, str]) -> WebhookEvent | None:
        raw = _as_bytes(body, "body")
        if len(raw) > self._max_body_bytes:
            raise ValueError(f"not a webhook event: {len(raw)} bytes (> {self._max_body_bytes})")
        self._check_signature(raw, headers)
        parsed = parse_event(raw, headers, max_body_bytes=self._max_body_bytes)
        if self._secrets:
            self._check_fresh(parsed)
        event = self._admit(parsed)
        if event is not None and event.is_terminal:
            loop = _running_loop()
            if self._bus is None or loop is None:
                self._fan_out(event)
            else:  # accept() is synchronous: the bus round trips go on in the background
                task = loop.create_task(self._share(self._bus, event))
                self._sharing.add(task)
                task.add_done_callback(self._sharing.discard)
        return event

    def _admit(self, event: WebhookEvent) -> WebhookEvent | None:
        """``event`` if this receiver has not seen its id yet (now it has), else ``None``."""
        with self._lock:
            if event.event_id in self._seen:
                self._seen.move_to_end(event.event_id)
                return None
            self._seen[event.event_id] = None
            if len(self._seen) > self._remember:
                self._seen.popitem(last=False)
        return event

    def _fan_out(self, event: WebhookEvent) -> None:
        """Hand a terminal event to this process's subscriptions."""
        try:
            self._offer(event.job_id)
        except BaseException:
            with self._lock:  # not handed on: the service's retry must not be a "repeat"
                self._seen.pop(event.event_id, None)
            raise

    def _offer(self, job_id: str) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.offer(job_id)

    async def _share(self, bus: EventBus, event: WebhookEvent) -> None:
        """Through the bus: claimed first here, published to every process; claimed elsewhere,
        dropped; the bus unreachable, fanned out locally."""
        claimed = await bus.claim(event.event_id, self._claim_ttl)
        if claimed is False:
            return
        if claimed is None or not await bus.publish(event.job_id):
            self._fan_out(event)

    async def flush(self) -> None:
        """Wait until every event ``accept`` handed to the coordinator has been claimed and
        published (or, Redis unavailable, handed to this process's waits); without a
        coordinator, return at once. Each step is bounded by the coordinator's timeouts (half a
        second with ``RedisCoordinator``).

        Await it before answering a delivery with a 2xx: the service does not send an event
        again once answered, so a worker that stopped with the event still in the background
        would lose it for every other worker's waits (they would find the job only at their
        fallback round). ``handle`` does this itself.
        """
        while self._sharing:
            await asyncio.gather(*self._sharing, return_exceptions=True)

    async def handle(self, request: web.BaseRequest) -> web.Response:
        """An aiohttp.web handler: 204 for an accepted or repeated event, 401 for a missing or
        wrong signature (or any delivery without a secret, unless ``allow_unsigned``), 400 for a
        body that is not an event or a stale one, 408 for a body not sent within
        ``body_timeout``, 413 for a body over ``max_body_bytes``. It never raises into aiohttp."""
        try:
            async with asyncio.timeout(self._body_timeout):
                body = await self._read_body(request)
        except _TooLarge:
            self._telemetry.delivery("refused")
            return web.Response(status=413, text="webhook body too large")
        except TimeoutError:
            self._telemetry.delivery("refused")
            return web.Response(status=408, text="webhook body not sent in time")
        except Exception:  # a reset connection, a broken chunked body: nothing to accept
            self._telemetry.delivery("refused")
            return web.Response(status=400, text="unreadable webhook body")
        try:
            self.accept(body, request.headers)
            await self.flush()
        except WebhookSignatureError:
            return web.Response(status=401, text="bad or missing webhook signature")
        except ValueError:
            return web.Response(status=400, text="not a webhook event")
        except Exception:  # a bug of ours: the service retries a 5xx later
            _log.exception("the webhook receiver failed on a delivery")
            return web.Response(status=500, text="webhook receiver error")
        return web.Response(status=204)

    def _check_signature(self, raw: bytes, headers: Mapping[str, str]) -> None:
        if not self._secrets:
            if self._allow_unsigned:
                return
            raise WebhookSignatureError(
                "the receiver has no secret: unsigned deliveries are refused "
                "(allow_unsigned=True accepts them)"
            )
        signature = _lowered(headers).get(SIGNATURE_HEADER.lower())
        if signature is None:
            raise WebhookSignatureError(f"the delivery has no {SIGNATURE_HEADER} header")
        if not any(verify_signature(raw, signature, secret) for secret in self._secrets):
            raise WebhookSignatureError(f"the delivery's {SIGNATURE_HEADER} does not match")

    def _check_fresh(self, event: WebhookEvent) -> None:
        if self._tolerance is None:
            return
        age = self._clock() - event.timestamp.timestamp()
        if abs(age) > self._tolerance:
            when = "old" if age > 0 else "in the future"
            raise ValueError(
                f"stale webhook event: its timestamp is {abs(age):.0f} s {when} "
                f"(tolerance {self._tolerance:g} s)"
            )

    def subscribe(self, wanted: Container[str]) -> EventSubscription:
        """A subscription, on the running event loop, to the ids of jobs in ``wanted`` that a
        terminal event names from now on. Use it as a context manager; leaving it unsubscribes.
        With a coordinator, this loop also listens to the events of other processes."""
        loop = asyncio.get_running_loop()
        if self._bus is not None:
            self._bus.subscribe(self._offer)
        return EventSubscription(self, loop, wanted)

    def _add(self, subscription: EventSubscription) -> None:
        with self._lock:
            self._subscriptions.add(subscription)

    def _discard(self, subscription: EventSubscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    async def _read_body(self, request: web.BaseRequest) -> bytes:
        declared = request.content_length
        if declared is not None and declared > self._max_body_bytes:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
            if size > self._max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)


class EventSubscription:
    """The job ids that terminal events named for one wait, gathered on the wait's own loop.

    Only ids in ``wanted`` (the wait's pending jobs, checked when the id arrives on the loop) are
    kept, so memory stays bounded by the jobs waited for, and an event for a job nobody watches
    wakes nobody.
    """

    def __init__(
        self, receiver: WebhookReceiver, loop: asyncio.AbstractEventLoop, wanted: Container[str]
    ) -> None:
        self._receiver = receiver
        self._loop = loop
        self._wanted = wanted
        #: Each id waiting to be handed over, with the loop time it arrived.
        self._ids: dict[str, float] = {}
        self._arrived = asyncio.Event()
        self._rechecked: set[str] = set()
        self._timers: list[asyncio.TimerHandle] = []

    def __enter__(self) -> Self:
        self._receiver._add(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._receiver._discard(self)
        for timer in self._timers:
            timer.cancel()

    def offer(self, job_id: str) -> None:
        """From any thread or loop: note that an event named ``job_id``."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._put(job_id)
            return
        try:
            self._loop.call_soon_threadsafe(self._put, job_id)
        except RuntimeError:  # the wait's loop is closed: the wait is long gone
            self._receiver._discard(self)

    def _put(self, job_id: str) -> None:
        if job_id in self._wanted and job_id not in self._ids:
            self._ids[job_id] = self._loop.time()
            self._arrived.set()

    def recheck(self, job_ids: list[str], *, after: float) -> None:
        """Hand ``job_ids`` over again ``after`` seconds from now, once per id ever: for jobs an
        event named before the service's record said they ended."""
        fresh = [job_id for job_id in job_ids if job_id not in self._rechecked]
        if fresh:
            self._rechecked.update(fresh)
            self._timers.append(self._loop.call_later(after, self._put_all, fresh))

    def _put_all(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            self._put(job_id)

    async def batch(
        self, *, until: float, window: float, flush_at: int, not_before: float = 0.0
    ) -> list[str]:
        """Ids that events named (still wanted), in arrival order, or ``[]`` once loop time
        ``until`` comes first. Ids are handed over in whole groups of ``flush_at`` as soon as
        there are enough, and the rest ``window`` seconds after the oldest of them arrived, so
        ids arriving close together share one lookup of at most ``flush_at`` ids; never before
        loop time ``not_before``, so a flood of events cannot make lookups back to back."""
        self._ids = {job_id: at for job_id, at in self._ids.items() if job_id in self._wanted}
        while True:
            now = self._loop.time()
            if now >= until:
                return []
            wake_at = until
            if self._ids:
                oldest = next(iter(self._ids.values()))
                due = not_before if len(self._ids) >= flush_at else oldest + window
                due = max(due, not_before)
                if due <= now:
                    return self._take(flush_at, window, now)
                wake_at = min(due, until)
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wake_at - now):
                    await self._arrived.wait()

    def _take(self, flush_at: int, window: float, now: float) -> list[str]:
        """Whole groups of ``flush_at``, plus the remainder if its oldest waited ``window``."""
        waiting = list(self._ids.items())
        count = len(waiting) // flush_at * flush_at
        if count < len(waiting) and waiting[count][1] + window <= now:
            count = len(waiting)
        taken = [job_id for job_id, _ in waiting[:count]]
        for job_id in taken:
            del self._ids[job_id]
        return taken


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _TooLarge(Exception):
    pass


def _secrets(secret: Any) -> tuple[str | bytes, ...]:
    """The receiver's secrets, newest first: one, a list of them, or none."""
    if secret is None:
        return ()
    secrets = [secret] if isinstance(secret, str | bytes) else secret
    if not isinstance(secrets, list | tuple):
        raise TypeError(
            f"secret must be a str, bytes, a list of them, or None, not {type(secret).__name__}"
        )
    if not secrets:
        raise ValueError("secret must not be an empty list (None, with allow_unsigned=True)")
    for one in secrets:
        if not _as_bytes(one, "secret"):
            raise ValueError("secret must not be empty (allow_unsigned=True for no signatures)")
    return tuple(secrets)


def _as_bytes(value: bytes | str, name: str) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"{name} must be bytes or str, not {type(value).__name__}")


def _lowered(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Header names folded to lower case, for plain dicts as much as multidicts."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a mapping, not {type(headers).__name__}")
    return {str(name).lower(): value for name, value in headers.items()}


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        start = raw[:_SHOWN].decode("utf-8", "replace")
        raise ValueError(f"not a webhook event: the body is not JSON: {start!r}") from None


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a webhook event: {name!r} is missing or not a non-empty string")
    if len(value) > 1000:
        raise ValueError(f"not a webhook event: {name!r} is {len(value)} characters long")
    return value


def _job_id(data: Mapping[str, Any]) -> str:
    """``data.job_id`` or ``data.id`` (either may be missing; if both are there they agree)."""
    ids = [data[key] for key in ("job_id", "id") if data.get(key) is not None]
    for job_id in ids:
        _text(job_id, "data.job_id")
    if len(set(ids)) > 1:
        shown = ", ".join(repr(shorten(job_id, _SHOWN)) for job_id in ids)
        raise ValueError(f"not a webhook event: 'data' names two different jobs: {shown}")
    return _text(ids[0] if ids else None, "data.job_id")


def _timestamp(value: Any) -> datetime:
    """Unix seconds (int or float) or an ISO 8601 string, as an aware UTC datetime."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            shown = shorten(value, _SHOWN)
            raise ValueError(f"not a webhook event: bad 'timestamp' {shown!r}") from None
        return to_utc(moment)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("not a webhook event: 'timestamp' is missing or not Unix seconds")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"not a webhook event: 'timestamp' {value!r} is out of range") from None
