"""One Redis server as the coordinator sees it: a connection pool per event loop, short
timeouts, and outages that cost at most one timeout before every caller goes local.

Why apart: the limiter and the event bus must never fail, hang or wait long because of Redis. A
hung server costs more than a dead one, so every command is bounded by ``TIMEOUT``; the first
failure marks an outage (one WARNING), callers see ``available`` false and use their local
fallback at once, and a background probe (``PING`` after a growing backoff) ends the outage (one
INFO). The redis asyncio client is bound to the loop it was made on, and our client promises to
work from one loop after another, hence one pool per loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

__all__ = ["TIMEOUT", "Link", "Unavailable"]

logger = logging.getLogger("aio_classify")

T = TypeVar("T")

#: Seconds any one Redis command may take before the server counts as unavailable.
TIMEOUT = 0.5
#: Seconds before the first probe of an unavailable server, doubling to ``MAX_BACKOFF``.
FIRST_BACKOFF = 0.25
MAX_BACKOFF = 4.0


class Unavailable(Exception):
    """Redis cannot be used right now: use the local fallback."""


class Link:
    """Commands to one Redis server, bounded in time, with outages noticed once."""

    def __init__(self, url: str, shown: str) -> None:
        self._url = url
        self._shown = shown  # the address without credentials, for log lines
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._down_until: float | None = None  # monotonic time of the next probe, in an outage
        self._backoff = FIRST_BACKOFF
        self._probe: asyncio.Task[None] | None = None
        self.closed = False

    def __repr__(self) -> str:
        state = "closed" if self.closed else "down" if self._down_until is not None else "up"
        return f"<Link {self._shown} {state}>"

    @property
    def available(self) -> bool:
        """Whether callers should try Redis now; in an outage this starts the probe when due."""
        if self.closed:
            raise RuntimeError("this RedisCoordinator is closed; create a new one")
        if self._down_until is None:
            return True
        probing = self._probe is not None and not self._probe.done()
        if time.monotonic() >= self._down_until and not probing:
            self._probe = asyncio.get_running_loop().create_task(self._probe_once())
        return False

    def client(self) -> aioredis.Redis:
        """The running loop's client (made on first use)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = aioredis.Redis.from_url(
                self._url,
                socket_timeout=TIMEOUT,
                socket_connect_timeout=TIMEOUT,
                retry=Retry(NoBackoff(), 0),
                health_check_interval=0,
            )
            self._clients[loop] = client
        return client

    async def run(self, command: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """``command(client)`` within ``TIMEOUT``; ``Unavailable`` (and an outage) if it fails."""
        if not self.available:
            raise Unavailable
        try:
            async with asyncio.timeout(TIMEOUT):
                return await command(self.client())
        except (RedisError, OSError, TimeoutError) as exc:
            self.failed(exc)
            raise Unavailable from None

    def failed(self, exc: BaseException) -> None:
        """A command failed: start an outage (logged once) or push the next probe back."""
        if self._down_until is None:
            logger.warning(
                "Redis at %s is unavailable (%s); rate limits and webhook events are local "
                "until it answers again",
                self._shown,
                type(exc).__name__,
            )
        self._down_until = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)

    async def _probe_once(self) -> None:
        try:
            async with asyncio.timeout(TIMEOUT):
                await self.client().ping()
        except (RedisError, OSError, TimeoutError) as exc:
            self.failed(exc)
        else:
            self._down_until = None
            self._backoff = FIRST_BACKOFF
            logger.info("Redis at %s answers again; sharing resumed", self._shown)
        finally:
            self._probe = None

    async def aclose(self) -> None:
        """Close the running loop's pool; pools of loops already closed are dropped."""
        self.closed = True
        probe, self._probe = self._probe, None
        if probe is not None and not probe.done():
            probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)
        loop = asyncio.get_running_loop()
        client = self._clients.pop(loop, None)
        self._clients.clear()
        if client is not None:
            await client.aclose()
