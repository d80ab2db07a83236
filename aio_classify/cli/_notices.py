"""Retries and throttling on stderr, as they happen, so a slow command never looks hung.

The library reports each retry, and each change of a call kind's send rate, on the
``aio_classify`` logger at INFO. A library must not print, so it only logs; the command line
turns those records into lines on stderr while a command runs (a refused connection used to mean
16 seconds of silence before the error). A record's text holds server text (an error's message),
so each line is made printable (no escape sequence reaches the terminal) and bounded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from .._core.sanitize import one_line

__all__ = ["MAX_NOTICE_CHARS", "notices_on"]

LOGGER_NAME = "aio_classify"
#: The longest line a notice prints, its prefix aside.
MAX_NOTICE_CHARS = 300


class NoticeHandler(logging.Handler):
    """Writes each record as ``<prog>: <message>``, one bounded, printable line."""

    def __init__(self, stream: TextIO, prog: str) -> None:
        super().__init__(logging.INFO)
        self._stream = stream
        self._prog = prog

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # On a terminal, first erase a live progress bar (redrawn at its next beat), so the
            # notice is not glued to its end.
            erase = "\r\x1b[K" if self._stream.isatty() else ""
            self._stream.write(
                f"{erase}{self._prog}: {one_line(record.getMessage(), MAX_NOTICE_CHARS)}\n"
            )
            self._stream.flush()
        except Exception:
            self.handleError(record)


@contextmanager
def notices_on(stream: TextIO, prog: str) -> Iterator[None]:
    """Show the library's INFO records on ``stream`` for the duration of the block."""
    logger = logging.getLogger(LOGGER_NAME)
    handler = NoticeHandler(stream, prog)
    level = logger.level
    logger.addHandler(handler)
    if not logger.isEnabledFor(logging.INFO):
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
