"""``Closing``: ``with`` for the sync objects that hold something on the loop thread.

Why a module of its own: the sync client (its thread and connections) and each ``LazyIterator``
(its async generator) both close by ``close()``; one mixin gives both ``with``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["Closing"]


class Closing:
    """``with obj:`` calls ``obj.close()`` on the way out."""

    def close(self) -> None:
        """Release what the object holds; idempotent."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
