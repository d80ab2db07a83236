"""Webhook events shared by every process through Redis: ``SET NX`` claims, pub/sub fan-out.

Why pub/sub rather than Streams: an event is only a hint (the job's record alone decides, and
every wait also polls in fallback rounds), it matters only to waits running at the moment, and it
is tiny. Pub/sub delivers it to every subscribed process in one hop with nothing to trim or
acknowledge; what it loses while a process reconnects, the fallback rounds cover. Streams would
replay those few events at the cost of a read position per process and a trimmed log in Redis.

A duplicate delivered to two processes is handled once: the first to ``SET NX`` the event's key
(which expires after the receiver's tolerance, at least 10 minutes) publishes it; the other drops
it. Each event loop that subscribes gets its own listener task and its own pub/sub connection; a
lost connection is an outage (``link``) and the listener subscribes again once it is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable

from redis.exceptions import RedisError

from .link import TIMEOUT, Link, Unavailable

__all__ = ["RedisEventBus"]

#: Seconds a listener waits for a message before checking whether it should stop.
LISTEN_STEP = 1.0
#: Seconds a listener waits before looking again while Redis is unavailable.
IDLE_STEP = 0.25


class RedisEventBus:
    """The ``coordination.EventBus`` of one namespace."""

    def __init__(self, link: Link, namespace: str) -> None:
        self._link = link
        self._prefix = f"{namespace}:webhooks"
        self.channel = f"{self._prefix}:events"
        self._listeners: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        self._deliveries: dict[asyncio.AbstractEventLoop, set[Callable[[str], None]]] = {}

    def __repr__(self) -> str:
        return f"<RedisEventBus {self.channel!r}, {len(self._listeners)} listener(s)>"

    async def claim(self, event_id: str, ttl: float) -> bool | None:
        digest = hashlib.sha256(event_id.encode()).hexdigest()[:32]
        key = f"{self._prefix}:seen:{digest}"
        try:
            claimed = await self._link.run(
                lambda client: client.set(key, b"1", nx=True, px=int(ttl * 1000))
            )
        except Unavailable:
            return None
        return bool(claimed)

    async def publish(self, job_id: str) -> bool:
        try:
            await self._link.run(lambda client: client.publish(self.channel, job_id.encode()))
        except Unavailable:
            return False
        return True

    def subscribe(self, deliver: Callable[[str], None]) -> None:
        loop = asyncio.get_running_loop()
        if self._link.closed:
            raise RuntimeError("this RedisCoordinator is closed; create a new one")
        self._deliveries.setdefault(loop, set()).add(deliver)
        listener = self._listeners.get(loop)
        if listener is None or listener.done():
            self._listeners[loop] = loop.create_task(self._listen(loop))

    async def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self._link.closed:
            if not self._link.available:
                await asyncio.sleep(IDLE_STEP)
                continue
            pubsub = self._link.client().pubsub(ignore_subscribe_messages=True)
            try:
                async with asyncio.timeout(TIMEOUT):
                    await pubsub.subscribe(self.channel)
                while True:
                    message = await pubsub.get_message(timeout=LISTEN_STEP)
                    if message is not None and message.get("type") == "message":
                        self._deliver(loop, message["data"])
            except (RedisError, OSError, TimeoutError) as exc:
                self._link.failed(exc)
            finally:
                with contextlib.suppress(RedisError, OSError, TimeoutError):
                    async with asyncio.timeout(TIMEOUT):
                        await pubsub.aclose()

    def _deliver(self, loop: asyncio.AbstractEventLoop, data: bytes) -> None:
        job_id = data.decode("utf-8", "replace")
        for deliver in list(self._deliveries.get(loop, ())):
            deliver(job_id)

    async def aclose(self) -> None:
        """Stop the running loop's listener; listeners of loops already closed are dropped."""
        loop = asyncio.get_running_loop()
        listener = self._listeners.pop(loop, None)
        self._listeners.clear()
        self._deliveries.clear()
        if listener is not None:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
