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
from collections import OrderedDict
from collections.abc import Container, Mapping
from datetime import UTC, datetime
from types import MappingProxyType, TracebackType
from typing import Any, Self

from aiohttp import web
from attrs import field, frozen

from ._core.dates import to_utc
from ._core.sanitize import shorten
from ._observe import build_telemetry
from ._validation import check_int

__all__ = [
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "MAX_BODY_BYTES",
    "SIGNATURE_HEADER",
    "TERMINAL_EVENT_TYPES",
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


def parse_event(body: bytes | str, headers: Mapping[str, str] | None = None) -> WebhookEvent:
    """The event in a delivery body, in either output format ("json": the object; "string":
    a JSON string holding it). The job id is read from ``data.job_id`` or ``data.id``; a missing
    ``event_id`` / ``event_type`` is taken from the ``X-Webhook-Event-*`` headers.

    Anything else raises ``ValueError`` with a short message that quotes at most a few escaped
    characters of what was sent.
    """
    raw = _as_bytes(body, "body")
    if len(raw) > MAX_BODY_BYTES:
        raise ValueError(f"not a webhook event: the body has {len(raw)} bytes (> {MAX_BODY_BYTES})")
    payload = _json(raw)
    if isinstance(payload, str):  # output format "string": the object, encoded once more
        payload = _json(payload.encode())
    if not isinstance(payload, dict):
        raise ValueError(f"not a webhook event: the body is a JSON {type(payload).__name__}")
    given = _lowered(headers)
    data = payload.get("data")
    if not isinstance(data, dict):
        raise ValueError("not a webhook event: 'data' is missing or not an object")
    return WebhookEvent(
        event_id=_text(payload.get("event_id", given.get(EVENT_ID_HEADER.lower())), "event_id"),
        event_type=_text(
            payload.get("event_type", given.get(EVENT_TYPE_HEADER.lower())), "event_type"
        ),
        job_id=_job_id(data),
        timestamp=_timestamp(payload.get("timestamp")),
        data=MappingProxyType(dict(data)),
    )


class WebhookReceiver:
    """Accepts deliveries, drops repeats, and hands each new event to the waits subscribed.

    ``secret``: the configuration's ``webhook_signing_secret``; with one, a delivery without a
    valid signature is refused. ``remember``: how many recent event ids are kept to drop repeats
    (the oldest is forgotten first). ``max_body_bytes``: bigger deliveries are refused unread.
    ``meter_provider``: with ``opentelemetry-api`` installed, deliveries are counted by outcome
    (``aio_classify.webhook.deliveries``) through it, or through the global one when ``None``.
    """

    def __init__(
        self,
        secret: str | bytes | None = None,
        *,
        remember: int = 10_000,
        max_body_bytes: int = MAX_BODY_BYTES,
        meter_provider: Any = None,
    ) -> None:
        if secret is not None and not _as_bytes(secret, "secret"):
            raise ValueError("secret must not be empty (use None for unsigned deliveries)")
        self._secret = secret
        self._remember = check_int(remember, "remember", low=1)
        self._max_body_bytes = check_int(max_body_bytes, "max_body_bytes", low=1)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._subscriptions: set[EventSubscription] = set()
        self._lock = threading.Lock()  # accept() may run in a framework's worker threads
        self._telemetry = build_telemetry(meter_provider=meter_provider)

    def __repr__(self) -> str:
        signed = "signed" if self._secret is not None else "unsigned"
        return f"<WebhookReceiver {signed}, {len(self._subscriptions)} subscription(s)>"

    def accept(self, body: bytes | str, headers: Mapping[str, str]) -> WebhookEvent | None:
        """Take one delivery: its event, or ``None`` for a repeat of an event already accepted.

        Raises ``WebhookSignatureError`` (a ``ValueError``) for a missing or wrong signature when
        the receiver has a secret, and ``ValueError`` for a body that is not an event (one over
        ``max_body_bytes`` included, refused before any hashing or parsing).
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
        if self._secret is not None:
            signature = _lowered(headers).get(SIGNATURE_HEADER.lower())
            if signature is None:
                raise WebhookSignatureError(f"the delivery has no {SIGNATURE_HEADER} header")
            if not verify_signature(raw, signature, self._secret):
                raise WebhookSignatureError(f"the delivery's {SIGNATURE_HEADER} does not match")
        event = parse_event(raw, headers)
        with self._lock:
            if event.event_id in self._seen:
                self._seen.move_to_end(event.event_id)
                return None
            self._seen[event.event_id] = None
            if len(self._seen) > self._remember:
                self._seen.popitem(last=False)
            subscriptions = list(self._subscriptions)
        if event.is_terminal:
            try:
                for subscription in subscriptions:
                    subscription.offer(event.job_id)
            except BaseException:
                with self._lock:  # not handed on: the service's retry must not be a "repeat"
                    self._seen.pop(event.event_id, None)
                raise
        return event

    async def handle(self, request: web.BaseRequest) -> web.Response:
        """An aiohttp.web handler: 204 for an accepted or repeated event, 401 for a missing or
        wrong signature (with a secret), 400 for a body that is not an event, 413 for a body over
        ``max_body_bytes``. It never raises into aiohttp."""
        try:
            body = await self._read_body(request)
        except _TooLarge:
            self._telemetry.delivery("refused")
            return web.Response(status=413, text="webhook body too large")
        except Exception:  # a reset connection, a broken chunked body: nothing to accept
            self._telemetry.delivery("refused")
            return web.Response(status=400, text="unreadable webhook body")
        try:
            self.accept(body, request.headers)
        except WebhookSignatureError:
            return web.Response(status=401, text="bad or missing webhook signature")
        except ValueError:
            return web.Response(status=400, text="not a webhook event")
        except Exception:  # a bug of ours: the service retries a 5xx later
            _log.exception("the webhook receiver failed on a delivery")
            return web.Response(status=500, text="webhook receiver error")
        return web.Response(status=204)

    def subscribe(self, wanted: Container[str]) -> EventSubscription:
        """A subscription, on the running event loop, to the ids of jobs in ``wanted`` that a
        terminal event names from now on. Use it as a context manager; leaving it unsubscribes."""
        return EventSubscription(self, asyncio.get_running_loop(), wanted)

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

    async def batch(self, *, until: float, window: float, flush_at: int) -> list[str]:
        """Ids that events named (still wanted), in arrival order, or ``[]`` once loop time
        ``until`` comes first. Ids are handed over in whole groups of ``flush_at`` as soon as
        there are enough, and the rest ``window`` seconds after the oldest of them arrived, so
        ids arriving close together share one lookup of at most ``flush_at`` ids."""
        self._ids = {job_id: at for job_id, at in self._ids.items() if job_id in self._wanted}
        while True:
            now = self._loop.time()
            if now >= until:
                return []
            wake_at = until
            if self._ids:
                oldest = next(iter(self._ids.values()))
                if len(self._ids) >= flush_at or oldest + window <= now:
                    return self._take(flush_at, window, now)
                wake_at = min(oldest + window, until)
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


class _TooLarge(Exception):
    pass


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
