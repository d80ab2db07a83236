"""The sync facades: ``ClassifyClient`` and ``JobPager`` over their async originals.

Why a module of its own: this is where the pieces meet: a ``LoopThread`` per client, twins made
from the async classes (``twins``), and the rule for what each result becomes on the sync side
(``_wrap``): an async client (``with_options``) a sync client on the same thread, a pager a sync
pager, an async iterator a ``LazyIterator``.
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any

from .._client import ClassifyClient as AsyncClassifyClient
from .._core.models import ClassifyJob
from .._jobs.pagination import JobPager as AsyncJobPager
from .closing import Closing
from .iterators import LazyIterator
from .runner import LoopThread
from .twins import Twin, add_twins

__all__ = ["ClassifyClient", "JobPager"]

THREAD_NAME = "aio_classify.sync"
"""The name of each sync client's loop thread (as ``threading.enumerate()`` shows it)."""


class _Facade(Twin):
    def _wrap(self, value: Any) -> Any:
        if isinstance(value, AsyncClassifyClient):
            return ClassifyClient._view(value, self._runner)
        if isinstance(value, AsyncJobPager):
            return JobPager(value, self._runner)
        if hasattr(value, "__anext__"):
            return LazyIterator(self._runner, value)
        return value


class ClassifyClient(_Facade, Closing):
    """A blocking client for LlamaCloud Classify v2 jobs: the async ``aio_classify.ClassifyClient``
    run on a private event loop in a background thread, for code that cannot ``await``.

    It takes the same arguments, and has a blocking method of the same name, arguments and
    errors for every public method of the async client (``get_job``, ``get_jobs``,
    ``create_job``, ``run``, ``wait_for_job``, ``wait_for_jobs``, ``cancel_job``,
    ``delete_job`` ...). Where the async client returns an async iterator (``iter_jobs``,
    ``watch_jobs``, ``scan_jobs``) this one returns a plain iterator (``LazyIterator``);
    ``list_jobs`` returns a sync ``JobPager``.

    Use it as ``with ClassifyClient() as client:`` or call ``client.close()``, which stops the
    thread and closes every connection. One client may be shared by many threads, and called
    from code that itself runs inside an event loop (it blocks the caller and never touches the
    caller's loop). The thread starts on the first call; a forked child starts its own. Ctrl-C
    interrupts a blocking call and cancels its work; the client stays usable.
    """

    _owns_runner: bool
    _finalizer: weakref.finalize[Any, Any] | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._async = AsyncClassifyClient(*args, **kwargs)
        self._runner = LoopThread(THREAD_NAME)
        self._owns_runner = True
        # Collected unclosed: let the thread end (the loop's shutdown closes the sessions).
        self._finalizer = weakref.finalize(self, self._runner.stop_soon)

    __init__.__signature__ = inspect.signature(AsyncClassifyClient.__init__)  # type: ignore[attr-defined]

    @classmethod
    def _view(cls, client: AsyncClassifyClient, runner: LoopThread) -> ClassifyClient:
        """A facade over another async client (``with_options``) on the same loop thread."""
        view = cls.__new__(cls)
        view._async, view._runner, view._owns_runner, view._finalizer = client, runner, False, None
        return view

    def __repr__(self) -> str:
        return f"<sync {self._async!r}>"

    @property
    def closed(self) -> bool:
        """True once ``close()`` (or ``with``) has closed the client."""
        return self._runner.closed or self._async.closed

    def close(self) -> None:
        """Close the connections the client made and stop its thread; idempotent. A client
        made by ``with_options`` closes only itself, as the async one does."""
        if self._owns_runner:
            self._runner.close(self._async.close)
            if self._finalizer is not None:
                self._finalizer.detach()
        elif not self._runner.closed:
            self._runner.run(self._async.close())


class JobPager(_Facade):
    """Returned by the sync ``ClassifyClient.list_jobs``: ``for job in pager`` yields every job,
    fetched page by page as the loop needs them; ``pages()`` and ``first_page()`` as on the
    async ``JobPager``. Iterating it again starts from its first page."""

    def __init__(self, pager: AsyncJobPager, runner: LoopThread) -> None:
        self._async = pager
        self._runner = runner

    def __iter__(self) -> LazyIterator[ClassifyJob]:
        # Whole pages cross threads at once; their jobs are then served from memory.
        return LazyIterator(self._runner, self._async._item_batches(), batched=True)


add_twins(ClassifyClient, AsyncClassifyClient)
add_twins(JobPager, AsyncJobPager)
