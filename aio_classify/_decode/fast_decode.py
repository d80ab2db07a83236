"""The hot path of reading: response bytes decoded by msgspec straight into the frozen attrs
records, for about the CPU cost of ``json.loads`` alone (cattrs, one hook call per field, costs
about three times that; ``docs/benchmarks.md`` has the figures).

msgspec builds attrs records itself, reading each field's type from the class annotations, and
checks every JSON type strictly. Three kinds of field have no msgspec spelling that gives the
exact (cattrs) path's result, so they are decoded as something plainer and finished afterwards:

- ``SomeStrEnum | str`` (an unknown status stays a plain string): decoded as ``str``, then
  swapped for the enum member when it is one;
- ``datetime``: msgspec's RFC 3339 parser differs from the exact path's (it takes ``t``/``z``,
  rounds a 7th fraction digit, leaves naive times naive), so the text is decoded as ``str`` and
  parsed by the exact path's own function;
- ``float``: msgspec would turn JSON ``1`` into ``1.0`` where the exact path keeps ``1``; decoded
  as ``int | float``, exactly what ``json.loads`` gives.

A record with such a field (or holding such a record) is decoded into a private subclass whose
annotations say the plainer types. The subclass adds no slots, so the object has the very layout
of the public record; the finisher, generated once per class as straight-line code (no per-field
hook calls), sets its class back to the public record and fixes those few fields in place. Fields
that mirror each other (``file_input`` / ``document_input_value``) are filled from one another.

Anything msgspec refuses (a missing required field, a wrong JSON type, a date ``fromisoformat``
does not read) makes ``decode`` return ``None``: the caller then takes the exact path, which
owns every error message.
"""

from __future__ import annotations

import functools
import operator
import re
import sys
import types
import typing
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

import attrs
import msgspec

__all__ = ["FastDecoder", "ShapeChecker", "json_loads_refuses"]

_T = TypeVar("_T")

_REFUSED = (msgspec.DecodeError, ValueError, TypeError, RecursionError)
"""What a refused body raises while decoded: ``DecodeError`` covers msgspec's ``ValidationError``
too; ``ValueError`` is a date text that ``fromisoformat`` refuses. Either way the exact path
decides what to raise."""

_set_class = object.__dict__["__class__"].__set__
"""Sets an object's ``__class__``: ``object.__setattr__(record, "__class__", cls)`` without the
name lookup (it runs for several records of every job read)."""


class FastDecoder(Generic[_T]):
    """Decodes JSON bytes into ``cls`` (an attrs record class), or returns ``None`` to refuse.

    ``parse_datetime`` turns a date-time text into the datetime the exact path would give;
    ``mirrored`` names, per record class, two fields filled from each other when only one of
    them was sent.
    """

    def __init__(
        self,
        cls: type[_T],
        *,
        parse_datetime: Callable[[str], datetime],
        mirrored: dict[type[Any], tuple[str, str]],
    ) -> None:
        compiler = _Compiler(parse_datetime, mirrored)
        self._decoder = msgspec.json.Decoder(compiler.wire_type(cls))
        self._finish = compiler.finisher(cls)

    def decode(self, body: bytes) -> _T | None:
        if json_loads_refuses(body):
            return None
        return self.decode_checked(body)

    def decode_checked(self, body: bytes | msgspec.Raw) -> _T | None:
        """``decode`` for bytes ``json_loads_refuses`` has already passed: one item of a page
        that passed it as a whole (a part of a passed body passes too)."""
        try:
            record = self._decoder.decode(body)
            return record if self._finish is None else self._finish(record)  # type: ignore[no-any-return]
        except _REFUSED:
            return None


class ShapeChecker(Generic[_T]):
    """Checks JSON bytes as ``FastDecoder(cls)`` would, for far less: into msgspec Structs of
    the same fields and wire types (built in C, no finishing), date texts checked by
    ``parse_datetime`` and not kept. Refuses (``None``) exactly what ``FastDecoder`` refuses;
    what it returns has each record's fields (a date field holds a marker) for reading the
    few that matter, such as a job's id and status."""

    def __init__(self, cls: type[_T], *, parse_datetime: Callable[[str], datetime]) -> None:
        def check_date(type_: type, value: Any) -> _DateText:
            if type_ is not _DateText:
                raise NotImplementedError
            if type(value) is not str:
                raise TypeError("a date-time must be a string")
            parse_datetime(value)
            return _CHECKED_DATE

        compiler = _Compiler(parse_datetime, {})
        self._decoder = msgspec.json.Decoder(compiler.shape_type(cls), dec_hook=check_date)

    def check(self, body: bytes) -> Any | None:
        if json_loads_refuses(body):
            return None
        try:
            return self._decoder.decode(body)
        except _REFUSED:
            return None


class _DateText:
    """Where a shape has a date-time field: its text was checked, and not kept."""


_CHECKED_DATE = _DateText()

_DIGITS = re.compile(rb"[0-9]*")


def json_loads_refuses(body: bytes) -> bool:
    """Whether ``json.loads`` (the exact path) could refuse a body msgspec might accept.

    msgspec skips the value of an unknown key without decoding it, so it takes two things there
    that ``json.loads`` refuses anywhere: bytes that are not UTF-8, and an integer with more
    digits than ``int()`` converts (``sys.get_int_max_str_digits()``). Both are checked cheaply:
    ``isascii`` first, and for digits only the bytes at every ``limit + 1``-th position, since a
    longer run of digits must cover one of them; from such a digit the run is measured forward,
    then only the bytes it still needs before it are checked, in place. A false alarm (a long
    run of digits inside a string) only costs the exact path.
    """
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return True
    limit = sys.get_int_max_str_digits()
    if not limit:
        return False
    longest = limit + 1
    for position in range(longest - 1, len(body), longest):
        if 48 <= body[position] <= 57:  # an ASCII digit
            ahead = _DIGITS.match(body, position).end() - position  # type: ignore[union-attr]
            start = position - (longest - ahead)  # where a run long enough must begin
            if ahead >= longest or (start >= 0 and _DIGITS.fullmatch(body, start, position)):
                return True
    return False


class _Compiler:
    """Per record class: the annotations msgspec decodes, and the code that finishes it.

    A record's finisher is straight-line code with the finishing of nested records inlined:
    ``r0`` is the record, ``r1`` a record held by it, and so on.
    """

    def __init__(
        self, parse_datetime: Callable[[str], datetime], mirrored: dict[type[Any], tuple[str, str]]
    ) -> None:
        self._mirrored = mirrored
        self._wire: dict[type[Any], type[Any]] = {}
        self._shapes: dict[type[Any], type[Any]] = {}
        self._namespace: dict[str, Any] = {
            "set_class": _set_class,
            "parse_datetime": parse_datetime,
        }

    def finisher(self, cls: type[Any]) -> Callable[[Any], Any] | None:
        """The generated finisher of ``cls`` (after ``wire_type(cls)``); None if it needs none."""
        if self._wire.get(cls, cls) is cls:
            return None
        source = "\n".join(["def finish(r0):", *_indent([*self._finish(cls, 0), "return r0"], 1)])
        namespace = dict(self._namespace)
        exec(compile(source, f"<finish {cls.__name__}>", "exec"), namespace)
        return namespace["finish"]  # type: ignore[no-any-return]

    def wire_type(self, hint: Any) -> Any:
        """The annotation msgspec decodes for ``hint``: ``hint`` itself when nothing differs."""
        return self._translate(hint, str, self._record)

    def shape_type(self, hint: Any) -> Any:
        """``wire_type(hint)`` with a msgspec Struct of the same fields for each record, and
        ``_DateText`` (checked by a hook) for each date-time."""
        return self._translate(hint, _DateText, self._shape)

    def _translate(self, hint: Any, date: type, record: Callable[[type[Any]], type[Any]]) -> Any:
        if hint is datetime:
            return date
        if hint is float:
            return int | float
        args = typing.get_args(hint)
        if _is_union(hint):
            enum = _enum_in(hint)  # ``SomeStrEnum | str``: any string, mapped afterwards
            return functools.reduce(
                operator.or_, [self._translate(a, date, record) for a in args if a is not enum]
            )
        if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple[self._translate(args[0], date, record), ...]  # type: ignore[misc]
        if attrs.has(hint):
            return record(hint)
        return hint

    def _shape(self, cls: type[Any]) -> type[Any]:
        if cls in self._shapes:
            return self._shapes[cls]
        hints = typing.get_type_hints(cls)
        fields = [
            (
                field.name,
                self.shape_type(hints[field.name]),
                msgspec.NODEFAULT if field.default is attrs.NOTHING else field.default,
            )
            for field in attrs.fields(cls)
        ]
        # gc=False: decoded JSON holds no reference cycles, and the collector need not look.
        shape = msgspec.defstruct(f"_Shape{cls.__name__}", fields, kw_only=True, gc=False)
        self._shapes[cls] = shape
        return shape

    def _record(self, cls: type[Any]) -> type[Any]:
        if cls not in self._wire:
            hints = typing.get_type_hints(cls)
            wire = {field.name: self.wire_type(hints[field.name]) for field in attrs.fields(cls)}
            if wire == {name: hints[name] for name in wire} and cls not in self._mirrored:
                self._wire[cls] = cls
            else:
                namespace = {"__slots__": (), "__annotations__": wire}
                self._wire[cls] = type(f"_Wire{cls.__name__}", (cls,), namespace)
                self._namespace[cls.__name__] = cls
        return self._wire[cls]

    def _finish(self, cls: type[Any], depth: int) -> list[str]:
        """Lines that finish the record in ``r{depth}``, an instance of ``cls``'s wire class."""
        record = f"r{depth}"
        lines = [f"set_class({record}, {cls.__name__})"]
        hints = typing.get_type_hints(cls)
        for field in attrs.fields(cls):
            lines += self._finish_field(cls, record, field.name, hints[field.name], depth)
        if cls in self._mirrored:
            first, second = self._mirrored[cls]
            lines += [
                f"if {record}.{first} is None:",
                f"    {self._setter(cls, first)}({record}, {record}.{second})",
                f"elif {record}.{second} is None:",
                f"    {self._setter(cls, second)}({record}, {record}.{first})",
            ]
        return lines

    def _setter(self, cls: type[Any], name: str) -> str:
        """The name, in the finisher's namespace, of a function that writes field ``name`` of a
        ``cls`` record: its slot's own ``__set__``, which a frozen record's ``__setattr__``
        cannot stop (attrs' ``__init__`` writes through ``object.__setattr__`` alike), without
        the lookup by name."""
        setter = f"set_{cls.__name__}_{name}"
        if setter not in self._namespace:
            slot = next((k.__dict__[name] for k in cls.__mro__ if name in k.__dict__), None)
            if not isinstance(slot, types.MemberDescriptorType):
                raise TypeError(f"{cls.__name__}.{name} is not a slot: records must be slotted")
            self._namespace[setter] = slot.__set__
        return setter

    def _finish_field(
        self, owner: type[Any], record: str, name: str, hint: Any, depth: int
    ) -> list[str]:
        """Lines that finish field ``name`` (typed ``hint``) of ``record``, a record of class
        ``owner``; often none."""
        optional = _is_union(hint) and type(None) in typing.get_args(hint)
        if optional:
            rest = [arg for arg in typing.get_args(hint) if arg is not type(None)]
            hint = functools.reduce(operator.or_, rest)
        value, inner = f"{record}.{name}", f"r{depth + 1}"
        enum = _enum_in(hint) if _is_union(hint) else None
        item = typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else None
        if hint is datetime:
            lines = [f"{self._setter(owner, name)}({record}, parse_datetime({inner}))"]
        elif enum is not None:
            members = f"members_{enum.__name__}"
            self._namespace[members] = {member.value: member for member in enum}
            lines = [f"{self._setter(owner, name)}({record}, {members}.get({inner}, {inner}))"]
        elif attrs.has(hint) and self._wire.get(hint, hint) is not hint:
            lines = self._finish(hint, depth + 1)
        elif item is not None and attrs.has(item) and self._wire.get(item, item) is not item:
            return [f"for {inner} in {value}:", *_indent(self._finish(item, depth + 1), 1)]
        else:
            return []
        if optional:
            return [f"{inner} = {value}", f"if {inner} is not None:", *_indent(lines, 1)]
        return [f"{inner} = {value}", *lines]


def _indent(lines: list[str], levels: int) -> list[str]:
    return ["    " * levels + line for line in lines]


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (types.UnionType, typing.Union)


def _enum_in(hint: Any) -> type[StrEnum] | None:
    """The string enum of a ``SomeStrEnum | str [| None]`` union (None for any other)."""
    args = typing.get_args(hint)
    enums = [arg for arg in args if isinstance(arg, type) and issubclass(arg, StrEnum)]
    return enums[0] if len(enums) == 1 and str in args else None
