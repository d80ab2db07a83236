"""Many workers, one service: rate limits and webhook events shared through Redis.

Why: real deployments run several processes (``uvicorn --workers 4``, gunicorn, queue workers)
with one API key. Alone, each learns the rate limit by itself and hits it, and a webhook
delivery lands on one worker while the wait for that job may sit in another. A
``RedisCoordinator`` given to every process's ``ClassifyClient`` and ``WebhookReceiver`` shares
that state through Redis or Valkey::

    coordinator = RedisCoordinator("redis://127.0.0.1:6379/0", namespace="myapp")
    client = ClassifyClient(coordinator=coordinator)
    receiver = WebhookReceiver(secret="whsec_...", coordinator=coordinator)
    ...
    await coordinator.close()  # the caller owns it, like a session; ``async with`` works too

Redis down, slow or restarted costs every process at most one short timeout (half a second):
it then limits and fans events out locally, logs one WARNING per outage, and shares again once
Redis answers. Needs the extra: ``pip install "aio-classify[redis]"``.
"""

from __future__ import annotations

import importlib.util
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from ._http.coordination import Coordinator, EventBus, scope_of
from ._http.throttle import AdaptiveLimiter, Limiter

__all__ = ["Coordinator", "EventBus", "RedisCoordinator", "scope_of"]

_SCHEMES = ("redis", "rediss", "unix")
_MAX_NAMESPACE = 100


class RedisCoordinator:
    """Shares rate limits and webhook events between processes through one Redis server.

    ``url``: ``redis://[user:password@]host[:port][/db]``, ``rediss://`` for TLS, or
    ``unix:///path/to/socket``; malformed, it is a ``ValueError`` here. A server that cannot be
    reached is no error: everything falls back to local until it answers. ``namespace``: 1 to
    100 characters without whitespace; every key and channel the coordinator uses starts with it,
    so processes share exactly when they use the same server and namespace.

    One coordinator serves any number of clients and receivers, from one event loop after
    another (a connection pool per loop). Close it when done, from the loop that used it last.
    """

    def __init__(self, url: str, *, namespace: str = "aio_classify") -> None:
        shown = _check_url(url)
        self.namespace = _check_namespace(namespace)
        if importlib.util.find_spec("redis") is None:
            raise ImportError(
                'aio_classify.redis needs redis-py: pip install "aio-classify[redis]"'
            )
        from ._redis.events import RedisEventBus
        from ._redis.link import Link

        self._link = Link(url, shown)
        self._bus = RedisEventBus(self._link, self.namespace)

    def __repr__(self) -> str:
        return f"RedisCoordinator({self._link!r}, namespace={self.namespace!r})"

    @property
    def closed(self) -> bool:
        """True once ``close()`` ran: clients and receivers may not use it any more."""
        return self._link.closed

    def shared_limiter(self, scope: str, local: AdaptiveLimiter) -> Limiter[Any]:
        """The call kind of ``local`` shared by every process with this namespace and
        ``scope`` (a digest of base URL and API key: see ``scope_of``)."""
        self._check_open()
        from ._redis.limiter import SharedLimiter

        return SharedLimiter(self._link, f"{self.namespace}:rate:{scope}:{local.kind}", local)

    def event_bus(self) -> EventBus:
        """The bus every ``WebhookReceiver`` given this coordinator shares events through."""
        self._check_open()
        return self._bus

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("this RedisCoordinator is closed; create a new one")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop listening for events and close the connections; idempotent. Close the clients
        using it first, so their last reports reach Redis."""
        if self.closed:
            return
        await self._bus.aclose()
        await self._link.aclose()


def _check_url(url: str) -> str:
    """``url`` checked; the address it names without credentials, for log lines."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("url is not a valid Redis URL (redis://host:port/db)") from None
    if parts.scheme not in _SCHEMES or (parts.scheme != "unix" and not parts.hostname):
        raise ValueError(
            "url must be redis://host[:port][/db], rediss://... or unix:///path "
            f"(got a {parts.scheme or 'missing'!r} scheme)"
        )
    if any(character.isspace() for character in url):
        raise ValueError("url must not contain whitespace")
    where = parts.path if parts.scheme == "unix" else f"{parts.hostname}:{port or 6379}"
    return f"{parts.scheme}://{where}"


def _check_namespace(namespace: str) -> str:
    if not isinstance(namespace, str):
        raise TypeError(f"namespace must be a str, not {type(namespace).__name__}")
    if not 1 <= len(namespace) <= _MAX_NAMESPACE or any(c.isspace() for c in namespace):
        raise ValueError(
            f"namespace must be 1 to {_MAX_NAMESPACE} characters without whitespace "
            f"(got {len(namespace)} characters)"
        )
    return namespace
