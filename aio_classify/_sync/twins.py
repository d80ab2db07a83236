"""Blocking twins, made from an async class's own methods: one code path, nothing to keep in step.

Why a module of its own: every public method the async client has (and every one added later)
must have a sync twin of the same name, arguments and errors. Writing them by hand would be a
second copy of the API to keep in step; instead ``add_twins`` reads the async class when the
sync class is made:

- a coroutine method becomes a method that runs the coroutine on the ``LoopThread`` and blocks;
- any other public method (``list_jobs``, ``iter_jobs``, a pager's ``pages``) is called on the
  loop's thread, where the async client's state lives;
- a property reads the async object's;
- each result passes through the facade's ``_wrap``: async iterators become ``LazyIterator``,
  pagers and clients their sync facades.

Each twin carries the async method's docstring and signature (``__signature__``), its return
annotation turned into the sync type (``AsyncGenerator[X, None]`` -> ``Iterator[X]``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from .runner import LoopThread

__all__ = ["Twin", "add_twins", "sync_signature"]

_ASYNC_ITERATOR = re.compile(r"^Async(?:Generator|Iterator|Iterable)\[(?P<item>.+?)(?:, None)?\]$")


class Twin:
    """The base of a sync facade: the async object it drives and the loop it runs on."""

    _async: Any
    _runner: LoopThread

    def _wrap(self, value: Any) -> Any:
        """What a call's result becomes on the sync side (overridden by the facades)."""
        return value

    def __getattr__(self, name: str) -> Any:
        """Public data attributes of the async object (``project_id`` ...), read through."""
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self._async, name)
        if callable(value):  # a method without a twin is not reachable through the facade
            raise AttributeError(name)
        return value


def add_twins(target: type[Twin], source: type) -> None:
    """Give ``target`` a twin of every public method and property of ``source`` that
    ``target`` does not define itself."""
    for name, member in vars(source).items():
        if name.startswith("_") or name in vars(target):
            continue
        if isinstance(member, property):
            setattr(target, name, _property_twin(name, member))
        elif inspect.isfunction(member):
            setattr(target, name, _method_twin(target, name, member))


def sync_signature(function: Callable[..., Any]) -> inspect.Signature:
    """``function``'s signature with its return annotation as the sync twin returns it."""
    signature = inspect.signature(function)
    returns = signature.return_annotation
    if isinstance(returns, str):
        returns = _ASYNC_ITERATOR.sub(r"Iterator[\g<item>]", returns)
    return signature.replace(return_annotation=returns)


def _method_twin(target: type[Twin], name: str, member: Callable[..., Any]) -> Any:
    if inspect.iscoroutinefunction(member):

        def twin(self: Twin, *args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # pytest shows the caller's line, not ours
            return self._wrap(self._runner.run(getattr(self._async, name)(*args, **kwargs)))

    else:

        def twin(self: Twin, *args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            method = getattr(self._async, name)
            return self._wrap(self._runner.call(lambda: method(*args, **kwargs)))

    twin.__name__ = name
    twin.__qualname__ = f"{target.__qualname__}.{name}"
    twin.__module__ = target.__module__
    twin.__doc__ = member.__doc__
    twin.__signature__ = sync_signature(member)  # type: ignore[attr-defined]
    return twin


def _property_twin(name: str, member: property) -> property:
    def read(self: Twin) -> Any:
        return getattr(self._async, name)

    return property(read, doc=member.__doc__)
