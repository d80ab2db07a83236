"""``LazyIterator``: a plain iterator over an async iterator that lives on a ``LoopThread``.

Why a module of its own: the async client hands out async generators (``iter_jobs``,
``watch_jobs``, ``scan_jobs``, a pager's ``pages()``); a sync caller needs a ``for`` loop that
fetches as lazily as ``async for`` does, and releases the connection when left early.

Each ``next()`` asks the loop for one step of the async iterator and blocks for it, so nothing
is fetched before the caller asks. A step may hand over a whole batch (``batched=True``: the
async iterator yields sequences, e.g. a listing's pages cut at its ``limit``), whose items are
then served from memory on the caller's thread, so a listing crosses threads once per page, not
once per job. ``close()`` (or leaving ``with``) closes the async generator on its loop and
waits; an iterator dropped unclosed (``break`` out of ``for x in client.iter_jobs(...)``) is
finalised by its loop's async generator hook, which closes it there too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Generic, Self, TypeVar

from .closing import Closing
from .runner import LoopThread

__all__ = ["LazyIterator"]

_T = TypeVar("_T")
_END: Any = object()


class LazyIterator(Closing, Iterator[_T], Generic[_T]):
    """A plain iterator that fetches lazily: each item (or page) is fetched only when asked
    for. Leaving a ``for`` loop early, ``close()`` or ``with`` releases the connection.

    Returned by the sync client where the async one returns an async iterator.
    """

    def __init__(
        self, runner: LoopThread, source: AsyncIterator[Any], *, batched: bool = False
    ) -> None:
        self._runner = runner
        self._source: AsyncIterator[Any] | None = source
        self._batched = batched
        self._ready: deque[_T] = deque()

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> _T:
        while not self._ready:
            source = self._source
            if source is None:
                raise StopIteration
            step = self._runner.run(_step(source, batched=self._batched))
            if step is _END:
                self._source = None
                raise StopIteration
            self._ready.extend(step)
        return self._ready.popleft()

    def close(self) -> None:
        """Stop early: close the async generator on its loop (releasing its connection) and
        wait for it. Idempotent; a closed client's iterators are already closed."""
        source, self._source = self._source, None
        self._ready.clear()
        aclose = getattr(source, "aclose", None)
        if aclose is not None and not self._runner.closed:
            self._runner.run(aclose())


async def _step(source: AsyncIterator[Any], *, batched: bool) -> Iterable[Any]:
    """One step on the loop: the next item as a one-item batch, the next batch, or ``_END``."""
    try:
        item = await anext(source)
    except StopAsyncIteration:
        return _END  # type: ignore[no-any-return]
    return item if batched else (item,)
