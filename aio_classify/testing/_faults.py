"""Injected faults and the record of what the server saw.

Faults wait in one FIFO queue; each is consumed by the next request it matches (optionally only
a given method and/or path), so a test can script "two drops, then a 503, then success".
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Iterator, Mapping
from typing import Literal

import attrs

FaultKind = Literal["status", "drop", "malformed"]
#: The default malformed body: JSON cut off after its first bytes.
TRUNCATED_JSON = b'{"items": ['


@attrs.frozen
class Fault:
    kind: FaultKind
    status: int = 200
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""
    content_type: str = "application/json"
    method: str | None = None
    path: str | None = None

    def applies_to(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and (
            self.path is None or self.path == path
        )


@attrs.define
class FaultQueue:
    _queue: collections.deque[Fault] = attrs.field(factory=collections.deque)

    def push(self, fault: Fault, count: int) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        self._queue.extend([fault] * count)

    def take(self, method: str, path: str) -> Fault | None:
        """Remove and return the oldest fault matching this request, if any."""
        for fault in self._queue:
            if fault.applies_to(method, path):
                self._queue.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._queue.clear()

    def __iter__(self) -> Iterator[Fault]:
        """The faults still waiting, oldest first."""
        return iter(self._queue)

    def __len__(self) -> int:
        return len(self._queue)


@attrs.frozen
class RecordedRequest:
    """One wire-format request as the fake server received it (``server.requests``).

    Attributes:
        method: The HTTP method, e.g. ``"GET"``.
        path: The path, e.g. ``"/api/v2/classify"``.
        query: The query's (name, value) pairs in order; a repeated name appears repeatedly.
        headers: The request headers, credentials (``Authorization``, ``Cookie``...) shown as
            ``Bearer [redacted]``, so a printed request log never holds a key.
        authorized: Whether the request carried the server's API key.
        time: Wall-clock arrival time (``time.time()``).
        route: The route pattern, e.g. ``"GET /api/v2/classify/{job_id}"``.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]
    authorized: bool
    time: float
    route: str


@attrs.define
class Stats:
    requests: list[RecordedRequest] = attrs.field(factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    #: Set by the first API request served (admin requests do not count).
    first_request: asyncio.Event = attrs.field(factory=asyncio.Event)

    def enter(self, request: RecordedRequest) -> None:
        self.first_request.set()
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        self.in_flight -= 1

    def reset(self) -> None:
        self.requests.clear()
        self.max_in_flight = self.in_flight

    def by_route(self) -> dict[str, int]:
        return dict(collections.Counter(r.route for r in self.requests))
