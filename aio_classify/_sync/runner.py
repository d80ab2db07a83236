"""``LoopThread``: one private event loop in one daemon thread, and blocking calls into it.

Why a module of its own: code that cannot ``await`` (a Django view, a Celery task, a notebook
cell whose loop is already running) must still drive the one async client. Running
``asyncio.run`` per call on the caller's thread fails inside a running loop and throws away the
client's sessions each time; instead every call is handed to a loop that lives as long as the
sync client, in a thread of its own. The caller only ever blocks on a ``concurrent.futures``
future: it never touches, nests in or needs an event loop of its own.

- Started lazily, on the first call; ``close()`` stops it, and ``asyncio.Runner`` closing the
  loop finalises every async generator, which closes the sessions the client made (see
  ``_http.sessions``).
- Many threads may call at once: handing a coroutine to the loop is thread-safe, and everything
  the async client does happens on its one loop thread.
- The caller waits in short slices, so a signal (Ctrl-C) reaches the main thread promptly; the
  call's task is then cancelled on the loop and the loop keeps serving other calls.
- A forked child does not inherit the parent's thread: it starts its own on its first call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["CLOSED_MESSAGE", "LoopThread"]

CLOSED_MESSAGE = "this ClassifyClient is closed; create a new one"
"""What a call on a closed client raises (a ``RuntimeError``, as the async client's)."""

_T = TypeVar("_T")
_WAIT_SLICE = 0.25  # seconds between chances for a signal handler to run in the waiting thread

_LIVE: weakref.WeakSet[LoopThread] = weakref.WeakSet()
#: A parent's loops, seen in a forked child: kept, never closed (their thread does not exist
#: here, so closing them is refused; dropping them would warn from ``__del__``).
_ORPHANED_LOOPS: list[asyncio.AbstractEventLoop] = []


class LoopThread:
    """A private event loop served by one daemon thread, started on first use."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False
        _LIVE.add(self)

    @property
    def closed(self) -> bool:
        """True once ``close()`` has run."""
        return self._closed

    @property
    def thread(self) -> threading.Thread | None:
        """The thread serving the loop, while one runs in this process."""
        return self._thread if self._pid == os.getpid() else None

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` on the loop and block until it ends: its result, or its exception."""
        try:
            loop = self._live_loop()
            future = asyncio.run_coroutine_threadsafe(coro, loop)
        except BaseException:
            coro.close()  # never scheduled: no "never awaited" warning
            raise
        return self._wait(future)

    def call(self, function: Callable[[], _T]) -> _T:
        """Call a plain ``function`` on the loop's thread (where the client's state lives)."""

        async def in_loop() -> _T:
            return function()

        return self.run(in_loop())

    def close(self, last: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``last()`` on the loop (the client's own close), then stop the loop and wait for
        its thread to end. Idempotent."""
        with self._lock:
            if self._closed:
                return
            started = self._loop is not None and self._pid == os.getpid()
        try:
            if started:
                self.run(last())
        finally:
            with self._lock:
                self._closed = True
                loop, stop, thread = self._detach()
            if loop is not None and stop is not None and thread is not None:
                _stop_soon(loop, stop)
                thread.join()

    def stop_soon(self) -> None:
        """Let the thread end without waiting for it (the owner was collected unclosed)."""
        with self._lock:
            self._closed = True
            loop, stop, _ = self._detach()
        if loop is not None and stop is not None:
            _stop_soon(loop, stop)

    def _detach(self) -> tuple[asyncio.AbstractEventLoop | None, asyncio.Event | None, Any]:
        if self._pid != os.getpid():
            return None, None, None
        detached = self._loop, self._stop, self._thread
        self._loop = self._stop = self._thread = None
        return detached

    def _live_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None and self._pid == os.getpid() and not self._closed:
            if threading.current_thread() is self._thread:
                raise RuntimeError(
                    "a blocking call from inside the client's own event loop would never end; "
                    "use the async aio_classify.ClassifyClient there"
                )
            return loop
        with self._lock:
            if self._closed:
                raise RuntimeError(CLOSED_MESSAGE)
            if self._loop is None or self._pid != os.getpid():
                self._start()
            assert self._loop is not None
            return self._loop

    def _start(self) -> None:
        if self._loop is not None:  # a parent's, in a forked child
            _ORPHANED_LOOPS.append(self._loop)
        self._pid = os.getpid()
        ready = threading.Event()
        thread = threading.Thread(target=self._serve, args=(ready,), name=self._name, daemon=True)
        thread.start()
        ready.wait()
        self._thread = thread

    def _serve(self, ready: threading.Event) -> None:
        with asyncio.Runner() as runner:
            stop = asyncio.Event()
            self._loop, self._stop = runner.get_loop(), stop
            ready.set()
            runner.run(stop.wait())

    def _wait(self, future: concurrent.futures.Future[_T]) -> _T:
        try:
            while True:
                try:
                    error = future.exception(timeout=_WAIT_SLICE)
                    break
                except TimeoutError:
                    continue
        except concurrent.futures.CancelledError:  # the loop stopped under the call
            raise RuntimeError(CLOSED_MESSAGE) from None
        except BaseException:  # Ctrl-C, or another signal handler raising: cancel the call
            future.cancel()
            raise
        if error is not None:
            raise error
        return future.result()

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()  # a parent's thread may have held it at the fork


def _stop_soon(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    with contextlib.suppress(RuntimeError):  # already closed
        loop.call_soon_threadsafe(stop.set)


def _reset_after_fork() -> None:
    for runner in list(_LIVE):
        runner._after_fork_in_child()


os.register_at_fork(after_in_child=_reset_after_fork)
