"""Server text is untrusted: before it reaches an exception message, a log record or a terminal
it is redacted (the API key taken out), made printable (control characters shown as escapes, so
no escape sequence reaches a terminal) and clipped (bounded length); before it reaches a CSV
file, a cell that a spreadsheet would run as a formula is neutralised.

One module, so every path applies the same rules; ``errors.ClassifyError`` applies ``message``
to every message it is given, which is what bounds all of them at once.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MIN_SECRET_CHARS",
    "REDACTED",
    "clip",
    "detached",
    "message",
    "printable",
    "redact",
    "redact_bytes",
    "spreadsheet_safe",
]

MAX_MESSAGE_CHARS = 1000
"""No exception message is longer than this (plus a short note of what was cut)."""

REDACTED = "[redacted]"

MIN_SECRET_CHARS = 12
"""A shorter secret (a test key such as ``"k"``) is not scrubbed: it cannot be told apart from
ordinary text, and replacing it would corrupt data. Real API keys are far longer."""

_E = TypeVar("_E", bound=BaseException)


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``[redacted]``."""
    if not secret or len(secret) < MIN_SECRET_CHARS or secret not in text:
        return text
    return text.replace(secret, REDACTED)


def redact_bytes(data: bytes, secret: str | None) -> bytes:
    """``redact`` for a raw body, before it is decoded (so decoded values are clean too)."""
    if not secret or len(secret) < MIN_SECRET_CHARS:
        return data
    needle = secret.encode("utf-8")
    return data.replace(needle, REDACTED.encode()) if needle in data else data


def printable(text: str) -> str:
    """Control and format characters (ESC, CR, NUL, bidi overrides...) as visible escapes."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet treat a CSV cell as a formula (OWASP, "CSV Injection")."""


def spreadsheet_safe(cell: str) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading ``'``
    (OWASP's advice), which spreadsheets display as nothing."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def clip(text: str, limit: int = MAX_MESSAGE_CHARS, *, mark: str | None = None) -> str:
    """The start of ``text``: at most ``limit`` characters, then ``mark`` where it was cut
    (by default, how much was cut). The one clipper: every shortened text comes from here."""
    if len(text) <= limit:
        return text
    return text[:limit] + (f"... ({len(text) - limit} more characters)" if mark is None else mark)


SHORT_CHARS = 200
"""The length of an excerpt inside a message (a field's value, the start of a body)."""


def shorten(text: str, limit: int = SHORT_CHARS) -> str:
    """An excerpt for a message: the start of a long text, then ``...``."""
    return clip(text, limit, mark="...")


def one_line(text: str, limit: int) -> str:
    """``text`` on one line: control characters escaped (``\\n``, ``\\x1b``), cut to ``limit``
    characters with ``…``."""
    text = printable(text[: limit * 2])  # bound the work before escaping
    return text if len(text) <= limit else clip(text, limit - 1, mark="…")


def message(text: str) -> str:
    """What an exception message may hold: printable and at most about 1,000 characters.

    Clipped before and after escaping, so a huge text is never escaped whole.
    """
    return clip(printable(clip(text)))


def detached(exc: _E) -> _E:
    """``exc`` without the exceptions it was raised from or during.

    ``raise ... from None`` only hides ``__context__`` from tracebacks; the object stays
    reachable, and aiohttp's exceptions hold the request (headers, so the API key). Raise the
    result outside any ``except`` block (or re-raise ``exc`` in its own handler): raised while
    another exception is handled, Python would attach that one again.
    """
    exc.__cause__ = None
    exc.__context__ = None
    exc.__suppress_context__ = True
    return exc
