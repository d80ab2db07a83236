"""``LoopThread``: one private event loop in one daemon thread, and blocking calls into it.

Why a module of its own: code that cannot ``await`` (a Django view, a Celery task, a notebook
cell whose loop is already running) must still drive the one async client. Running
``asyncio.run`` per call on the caller's thread fails inside a running loop and throws away the
client's sessions each time; instead every call is handed to a loop that lives as long as the
sync client, in a thread of its own. The caller only ever blocks on a lock the
loop releases: it never touches, nests in or needs an event loop of its own.

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
import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

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
        pending = _Call(coro)
        try:
            loop = self._live_loop()
        except BaseException:
            coro.close()  # never scheduled: no "never awaited" warning
            raise
        try:
            loop.call_soon_threadsafe(pending.start, loop)
        except BaseException:  # the loop closed, or Ctrl-C landed just here
            pending.abandon(loop)
            raise
        return pending.wait(loop)

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

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()  # a parent's thread may have held it at the fork


class _Call(Generic[_T]):
    """One coroutine handed to the loop, and the caller's wait for its outcome.

    Lighter than ``asyncio.run_coroutine_threadsafe`` (no ``concurrent.futures.Future`` and its
    condition, no chained callbacks): one lock the loop releases when the task is done. A
    listing crosses threads once per page, so this is on its hot path.
    """

    __slots__ = ("_abandoned", "_coro", "_done", "_error", "_result", "_state", "_task")

    def __init__(self, coro: Coroutine[Any, Any, _T]) -> None:
        self._coro = coro
        self._task: asyncio.Task[_T] | None = None
        self._result: _T | None = None
        self._error: BaseException | None = None
        self._done = threading.Lock()
        self._done.acquire()
        # Guards the hand-over between the caller (abandon) and the loop (start): the
        # coroutine is closed or cancelled by whichever side holds it, never run by both.
        self._state = threading.Lock()
        self._abandoned = False

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop: run the coroutine as a task (or close it, if the caller has gone)."""
        with self._state:
            if self._abandoned:
                self._coro.close()
                return
            self._task = loop.create_task(self._coro)
        self._task.add_done_callback(self._finish)

    def abandon(self, loop: asyncio.AbstractEventLoop) -> None:
        """The caller has stopped waiting (Ctrl-C, or the loop closed): cancel the task if it
        runs; a coroutine not yet started is closed where it is, never while it executes."""
        with self._state:
            self._abandoned = True
            task = self._task
        try:
            loop.call_soon_threadsafe(task.cancel if task is not None else self._close_unstarted)
        except RuntimeError:  # the loop is closed: ``start`` can no longer run
            if task is None:
                self._coro.close()

    def _close_unstarted(self) -> None:
        with self._state:
            if self._task is None:
                self._coro.close()

    def _finish(self, task: asyncio.Task[_T]) -> None:
        if task.cancelled():
            self._error = RuntimeError(CLOSED_MESSAGE)  # cancelled by the loop's shutdown
        else:
            self._error = task.exception()
            if self._error is None:
                self._result = task.result()
        self._done.release()

    def wait(self, loop: asyncio.AbstractEventLoop) -> _T:
        """Block until the task is done, in short slices so that a signal (Ctrl-C) reaches
        the waiting thread; on one, cancel the task and let the signal's exception go on."""
        try:
            while not self._done.acquire(timeout=_WAIT_SLICE):
                if loop.is_closed():  # stopped before the task could start
                    raise RuntimeError(CLOSED_MESSAGE)
        except BaseException:
            self.abandon(loop)
            raise
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]


def _stop_soon(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    with contextlib.suppress(RuntimeError):  # already closed
        loop.call_soon_threadsafe(stop.set)


def _reset_after_fork() -> None:
    for runner in list(_LIVE):
        runner._after_fork_in_child()


os.register_at_fork(after_in_child=_reset_after_fork)
