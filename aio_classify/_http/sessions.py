"""Our aiohttp sessions: one per event loop, each closed before its loop closes.

aiohttp binds a session (its connector, its connections) to the loop it was made in, so a
client used from ``asyncio.run`` after ``asyncio.run`` (scripts, a test framework with a loop
per test, forked workers) needs one session per loop, and the old one must be closed while its
loop still runs. The hook for that moment is one ``asyncio.run`` and ``asyncio.Runner`` already
call before closing a loop: ``loop.shutdown_asyncgens()`` finalises every async generator begun
in the loop. Each session is paired with such a generator (a "guard") whose ``finally`` closes it.

A loop closed without that step (``loop.close()`` by hand), or a parent's session seen in a
forked child, can no longer close its connections the normal way (that schedules callbacks on
the dead loop, or touches the parent's selector). Such a session is abandoned: the sockets of
its connections are closed directly, then it is detached, which is silent (no ResourceWarning).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator
from contextlib import suppress
from typing import Any

import aiohttp
from attrs import frozen

from .._core.errors import ClassifyError
from .._core.sanitize import detached

__all__ = ["LoopSessions", "check_session_loop"]


def check_session_loop(session: aiohttp.ClientSession) -> aiohttp.ClientSession:
    """A caller's session, if it belongs to the running loop; else a clear ``ClassifyError``
    (aiohttp would fail later with "attached to a different loop" or hang)."""
    # ``ClientSession.loop`` is deprecated; ``_loop`` is what aiohttp itself checks.
    if getattr(session, "_loop", None) is not asyncio.get_running_loop():
        raise detached(
            ClassifyError(
                "the aiohttp session passed as session= belongs to another event loop; "
                "create the ClassifyClient with a session made in this loop, or without one"
            )
        )
    return session


@frozen
class _Owned:
    session: aiohttp.ClientSession
    guard: AsyncGenerator[None, None]
    pid: int


async def _close_at_loop_end(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if not session.closed:
            await session.close()


class LoopSessions:
    """The sessions a client created, by event loop."""

    def __init__(self, max_connections: int) -> None:
        self._max_connections = max_connections
        self._by_loop: dict[asyncio.AbstractEventLoop, _Owned] = {}
        #: True once ``close()`` has run: the client that made them is closed.
        self.closed = False

    async def current(self) -> aiohttp.ClientSession:
        """The running loop's session, made on first use."""
        loop = asyncio.get_running_loop()
        owned = self._by_loop.get(loop)
        if owned is not None and not owned.session.closed and owned.pid == os.getpid():
            return owned.session
        self._forget_gone()  # this loop's session too, if closed or a parent's
        connector = aiohttp.TCPConnector(limit=self._max_connections)
        session = aiohttp.ClientSession(connector=connector)
        guard = _close_at_loop_end(session)
        await anext(guard)  # runs to its ``yield`` at once: registered with this loop, no switch
        self._by_loop[loop] = _Owned(session, guard, os.getpid())
        return session

    async def close(self) -> None:
        """Close this loop's session; abandon those of loops already gone."""
        self.closed = True
        owned = self._by_loop.pop(asyncio.get_running_loop(), None)
        self._forget_gone()
        for other_loop, other in list(self._by_loop.items()):
            if other_loop.is_running():  # a live loop in another thread closes its own
                asyncio.run_coroutine_threadsafe(other.guard.aclose(), other_loop)
            else:
                _abandon(other.session)
                _finish(other.guard)
        self._by_loop.clear()
        if owned is not None:
            await owned.guard.aclose()

    def _forget_gone(self) -> None:
        """Drop sessions closed with their loop; abandon those of a closed loop or a parent."""
        pid = os.getpid()
        for loop, owned in list(self._by_loop.items()):
            if owned.session.closed or loop.is_closed() or owned.pid != pid:
                del self._by_loop[loop]
                _abandon(owned.session)
                _finish(owned.guard)


def _finish(guard: AsyncGenerator[None, None]) -> None:
    """Run a guard's ``finally`` without a loop (its session is closed: nothing to await), so
    it is never handed to a dead loop's finaliser."""
    closing = guard.aclose()
    with suppress(StopIteration, RuntimeError):
        closing.send(None)
    closing.close()


def _abandon(session: aiohttp.ClientSession) -> None:
    """Close a session whose loop can no longer run: sockets shut directly, no callbacks.

    This reaches into asyncio's and aiohttp's private state (there is no public way to close a
    transport without its loop); anything unexpected is skipped rather than raised.
    """
    connector = session.connector
    if connector is None or session.closed:
        return
    session.detach()
    conns: Any = getattr(connector, "_conns", {})
    acquired: Any = getattr(connector, "_acquired", set())
    protocols = [proto for entries in conns.values() for proto, _ in entries]
    for proto in [*protocols, *acquired]:
        transport, proto.transport = proto.transport, None
        if transport is not None:
            _close_socket(transport)
    with suppress(Exception):
        connector._close()  # marks it closed; with its protocols detached it touches no loop


def _close_socket(transport: Any) -> None:
    ssl_protocol = getattr(transport, "_ssl_protocol", None)
    if ssl_protocol is not None:  # TLS: the app transport wraps the socket transport
        transport._closed = True
        transport = getattr(ssl_protocol, "_transport", None)
    sock = getattr(transport, "_sock", None)
    if sock is not None:
        with suppress(OSError):
            sock.close()
        transport._sock = None
