"""The fake's webhook deliveries: what the service POSTs when a job with inline
``webhook_configurations`` changes state, and the faults a test needs to trust a receiver.

Like the rest of the fake, it is written from the service's documentation alone and shares no
code with the client's ``aio_classify.webhooks`` (its signature included), so a misreading there
cannot be mirrored here.

Why here and not in the store: delivering is I/O (an HTTP client, retries, timers), while the
store stays pure and lazy. The store calls ``WebhookDeliverer.job_changed`` whenever a job moves;
a ticker advances the store's lifecycle so scheduled jobs move (and notify) even when nobody
reads them.

As the service does: one event per state change and configuration whose ``webhook_events`` lists
it (all events when unset); the body ``{event_id, event_type, timestamp, data: {id, job_id}}``,
encoded once more as a JSON string unless ``webhook_output_format`` is ``"json"``; headers
``Content-Type``, ``X-Webhook-Event-ID``, ``X-Webhook-Event-Type``, the configuration's
``webhook_headers`` and, with a signing secret, ``LC-Signature``; up to three attempts (any 2xx is
success), 1 s and then 2 s apart by default (``retry_delays``, shortened in tests). Saved
configurations (``webhook_configuration_ids``) are not known to the fake and get no deliveries.

Faults (``DeliveryFaults``, seeded): a share of events dropped (never sent), duplicated (sent
twice with the same event id), delayed, or reordered (held back until the next delivery went
out).

The fake delivers to loopback endpoints only (``localhost``, 127.0.0.0/8, ``::1``): it is a local
test double, so an endpoint elsewhere, such as a URL a fuzzer made up, gets no traffic at all:
its delivery is recorded with the outcome ``"refused"`` and no attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import random
import uuid
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, Literal

import aiohttp
import attrs
import yarl

from ._store import Job, JobStore

__all__ = ["STATUS_EVENTS", "Delivery", "DeliveryFaults", "WebhookDeliverer", "event_body"]

#: The event type a job's new status is announced with.
STATUS_EVENTS: Mapping[str, str] = {
    "PENDING": "classify.pending",
    "RUNNING": "classify.running",
    "COMPLETED": "classify.success",
    "FAILED": "classify.error",
    "CANCELLED": "classify.cancelled",
}

Outcome = Literal["pending", "delivered", "failed", "dropped", "refused"]
#: The ``DeliveryFaults`` fields that are shares of events (0..1).
FAULT_SHARES = ("drop", "duplicate", "delay", "reorder")


@attrs.frozen(kw_only=True)
class DeliveryFaults:
    """Shares (0..1) of events to mistreat, decided by a ``random.Random(seed)``."""

    drop: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0
    reorder: float = 0.0
    #: How long a delayed event waits, and the longest a reordered one is held back.
    delay_seconds: float = 1.0
    seed: int = 0

    def __attrs_post_init__(self) -> None:
        for name in FAULT_SHARES:
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be a share between 0 and 1; got {share!r}")
        if not 0.0 <= self.delay_seconds < float("inf"):
            raise ValueError(f"delay_seconds must be finite and >= 0; got {self.delay_seconds!r}")


@attrs.define
class Delivery:
    """One event sent (or not) to one endpoint; ``statuses`` holds each attempt's HTTP status,
    or 0 for an attempt that got no answer."""

    event_id: str
    event_type: str
    job_id: str
    url: str
    body: bytes
    headers: dict[str, str]
    outcome: Outcome = "pending"
    statuses: list[int] = attrs.field(factory=list)
    #: The extra copies sent by the "duplicate" fault.
    copies: int = 0


def event_body(
    event_id: str, event_type: str, job_id: str, timestamp: float, output_format: str | None
) -> bytes:
    """A delivery body: the event object as JSON, or (output format "string", the default)
    that JSON encoded once more as a JSON string."""
    event = {
        "event_id": event_id,
        "event_type": event_type,
        "timestamp": timestamp,
        "data": {"id": job_id, "job_id": job_id},
    }
    text = json.dumps(event)
    return (text if output_format == "json" else json.dumps(text)).encode()


class WebhookDeliverer:
    """Sends the fake server's webhook events. Runs between ``start()`` and ``close()`` (the
    server does both); ``faults`` and ``retry_delays`` may be changed at any time."""

    def __init__(
        self,
        store: JobStore,
        *,
        retry_delays: Sequence[float] = (1.0, 2.0),
        attempt_timeout: float = 30.0,
        tick: float = 0.005,
    ) -> None:
        self._store = store
        self.retry_delays = tuple(retry_delays)
        self.attempt_timeout = attempt_timeout
        self._tick = tick
        self.faults = DeliveryFaults()
        self.deliveries: list[Delivery] = []
        self._rng = random.Random(0)
        self._session: aiohttp.ClientSession | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._armed = False
        #: Reordered deliveries waiting for the next one to go out first.
        self._held: list[asyncio.Event] = []

    @property
    def faults(self) -> DeliveryFaults:
        return self._faults

    @faults.setter
    def faults(self, faults: DeliveryFaults) -> None:
        self._faults = faults
        self._rng = random.Random(faults.seed)

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._ticker = asyncio.create_task(self._advance_store())

    async def close(self) -> None:
        """Stop: cancel the ticker, held events and attempts still under way."""
        session, self._session = self._session, None
        tasks = {*self._sending, *([self._ticker] if self._ticker else [])}
        self._ticker = None
        self._held.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if session is not None:
            await session.close()

    async def wait_idle(self) -> None:
        """Until no event is held back and no attempt (or retry pause) is under way."""
        while self._sending:
            await asyncio.wait(set(self._sending))

    def job_changed(self, job: Job, status: str, at: float) -> None:
        """The store's hook: announce ``job``'s new ``status`` to each of its endpoints."""
        event_type = STATUS_EVENTS.get(status)
        if not job.webhook_configurations or event_type is None or self._session is None:
            return
        self._armed = True
        for webhook in job.webhook_configurations:
            wanted = webhook.get("webhook_events")
            url = webhook.get("webhook_url")
            if url and (wanted is None or event_type in wanted):
                self._dispatch(self._delivery(webhook, event_type, job.key[1], at))

    def _delivery(
        self, webhook: Mapping[str, Any], event_type: str, job_id: str, at: float
    ) -> Delivery:
        event_id = str(uuid.uuid4())  # unique across servers, as a receiver expects
        body = event_body(event_id, event_type, job_id, at, webhook.get("webhook_output_format"))
        headers = {
            "Content-Type": "application/json",
            "X-Webhook-Event-ID": event_id,
            "X-Webhook-Event-Type": event_type,
            **(webhook.get("webhook_headers") or {}),
        }
        secret = webhook.get("webhook_signing_secret")
        if secret:
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            headers["LC-Signature"] = f"sha256={digest}"
        return Delivery(event_id, event_type, job_id, str(webhook["webhook_url"]), body, headers)

    def _dispatch(self, delivery: Delivery) -> None:
        """Apply the faults, then send (or hold, or drop) the delivery."""
        self.deliveries.append(delivery)
        faults, roll = self._faults, self._rng.random
        if roll() < faults.drop:
            delivery.outcome = "dropped"
            return
        if roll() < faults.duplicate:
            delivery.copies = 1
        delay = faults.delay_seconds if roll() < faults.delay else 0.0
        if roll() < faults.reorder:
            released = asyncio.Event()
            self._held.append(released)
            self._track(self._send_after_next(delivery, delay, released))
            return
        held, self._held = self._held, []
        self._track(self._send(delivery, delay))
        for released in held:
            released.set()

    def _track(self, sending: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(sending)
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send_after_next(
        self, delivery: Delivery, delay: float, released: asyncio.Event
    ) -> None:
        """Reordered: wait until the next delivery has started (or ``delay_seconds``)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._faults.delay_seconds):
                await released.wait()
        if released in self._held:
            self._held.remove(released)
        await asyncio.sleep(0)  # the delivery that released this one goes first
        await self._send(delivery, delay)

    async def _send(self, delivery: Delivery, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        copies = (
            self._attempts(delivery, counted=copy == 0) for copy in range(1 + delivery.copies)
        )
        await asyncio.gather(*copies)

    async def _attempts(self, delivery: Delivery, *, counted: bool) -> None:
        """Up to ``1 + len(retry_delays)`` attempts; only the original's are recorded."""
        if not _is_loopback_url(delivery.url):
            if counted:
                delivery.outcome = "refused"  # never sent: the endpoint is not this machine
            return
        for pause in (0.0, *self.retry_delays):
            if pause:
                await asyncio.sleep(pause)
            status = await self._post(delivery)
            if counted:
                delivery.statuses.append(status)
            if 200 <= status < 300:
                if counted:
                    delivery.outcome = "delivered"
                return
        if counted:
            delivery.outcome = "failed"

    async def _post(self, delivery: Delivery) -> int:
        session = self._session
        if session is None:
            return 0
        try:
            async with session.post(
                delivery.url,
                data=delivery.body,
                headers=delivery.headers,
                timeout=aiohttp.ClientTimeout(total=self.attempt_timeout),
                allow_redirects=False,
            ) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError, OSError):
            return 0

    async def _advance_store(self) -> None:
        """Apply due lifecycle steps as they fall due, so their events go out on time."""
        while True:
            if self._armed:  # a job with webhooks exists; before, nothing need move on time
                self._store.advance()
            await asyncio.sleep(self._tick)


def _is_loopback_url(url: str) -> bool:
    """Whether ``url`` names this machine: the only place the fake ever sends a delivery."""
    host = yarl.URL(url).host or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
