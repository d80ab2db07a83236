"""What a coordinator shares between processes: the two protocols another backend implements.

Why apart: the client and the webhook receiver must not know which engine shares their state
(``aio_classify.redis`` is one), and a process without a coordinator must not import any. A
coordinator offers two things:

- ``Coordinator.shared_limiter``: a ``throttle.Limiter`` for one call kind whose cap and
  adaptive rate hold for every process using the same scope. Its ``acquire()`` returns an opaque
  turn that goes back to ``report``; ``aclose()`` flushes what is still being reported. When the
  backend cannot be reached it gives turns from the local limiter it was built around, so a call
  never fails or hangs because of it.
- ``EventBus``: webhook events seen by any process reach every process (``publish`` /
  ``subscribe``), and an event delivered twice, to any process, is handled once (``claim``).

``scope_of`` names what a shared rate belongs to without holding the API key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Protocol

from .throttle import AdaptiveLimiter, Limiter

__all__ = ["Coordinator", "EventBus", "check_coordinator", "scope_of"]


def scope_of(base_url: str, api_key: str) -> str:
    """A digest of the service's address and the API key: the same for every process sharing
    both, and no way back to the key."""
    return hashlib.sha256(f"{base_url}\n{api_key}".encode()).hexdigest()[:32]


class EventBus(Protocol):
    """Webhook events shared between processes. Every method returns rather than raises when the
    backend cannot be reached (``None`` / ``False``): the receiver then fans out locally."""

    async def claim(self, event_id: str, ttl: float) -> bool | None:
        """``True`` if no process claimed ``event_id`` in the last ``ttl`` seconds (and it is now
        claimed), ``False`` for a repeat, ``None`` when the backend cannot say."""
        ...

    async def publish(self, job_id: str) -> bool:
        """Tell every subscribed process that a terminal event named ``job_id``; ``False`` when
        it could not be sent."""
        ...

    def subscribe(self, deliver: Callable[[str], None]) -> None:
        """Call ``deliver(job_id)`` on the running event loop for every job id published from
        now on, until the bus is closed (calling it again with the same ``deliver`` on the same
        loop changes nothing)."""
        ...

    async def aclose(self) -> None:
        """Stop listening and release the connections."""
        ...


class Coordinator(Protocol):
    """Shares rate limits and webhook events between processes (``aio_classify.redis``)."""

    @property
    def closed(self) -> bool:
        """True once the coordinator is closed: nothing may use it any more."""
        ...

    def shared_limiter(self, scope: str, local: AdaptiveLimiter) -> Limiter[Any]:
        """A limiter for ``local``'s call kind, shared by every process with the same ``scope``
        (``scope_of``), with ``local``'s cap and adaptivity; ``local`` gives the turns while the
        backend cannot be reached."""
        ...

    def event_bus(self) -> EventBus:
        """The bus webhook receivers share events through."""
        ...


def check_coordinator(coordinator: Any) -> Coordinator:
    """``coordinator`` if it is one and still open: a closed one is an error here, at the
    client's or receiver's construction, rather than a surprise at its first use."""
    if not all(callable(getattr(coordinator, name, None)) for name in _COORDINATOR_METHODS):
        raise TypeError(
            "coordinator must be a RedisCoordinator (or implement Coordinator), "
            f"not {type(coordinator).__name__}"
        )
    if coordinator.closed:
        raise RuntimeError(f"the coordinator is closed ({type(coordinator).__name__}.close())")
    return coordinator  # type: ignore[no-any-return]


_COORDINATOR_METHODS = ("shared_limiter", "event_bus")
