"""The CLI's notices: the library's retry and throttle records as one safe line each on stderr."""

from __future__ import annotations

import io
import logging

from aio_classify import ClassifyClient
from aio_classify._core.sanitize import one_line
from aio_classify.cli._notices import MAX_NOTICE_CHARS, notices_on
from aio_classify.testing import FakeClassifyServer


def test_one_line_escapes_control_characters_and_stays_bounded() -> None:
    assert one_line("plain text", MAX_NOTICE_CHARS) == "plain text"
    assert (
        one_line("red \x1b[31m\r\nnext\tline\x00", MAX_NOTICE_CHARS)
        == "red \\x1b[31m\\r\\nnext\\tline\\x00"
    )
    long = one_line("\x1b" * 10_000, MAX_NOTICE_CHARS)
    assert len(long) == MAX_NOTICE_CHARS
    assert long.endswith("…")
    assert "\x1b" not in long


async def test_retries_show_as_they_happen_one_line_each(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    hostile = "\x1b]0;pwned\x07\n" + "x" * 5000
    server.fail_next(503, count=2, retry_after=0, body={"detail": hostile})
    stream = io.StringIO()
    with notices_on(stream, "aio-classify"):
        await client.list_jobs().first_page()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    for number, line in enumerate(lines, start=1):
        assert line.startswith(f"aio-classify: attempt {number} failed (")
        assert "503" in line
        assert "\x1b" not in line
        assert "\x07" not in line
        assert len(line) <= len("aio-classify: ") + MAX_NOTICE_CHARS


async def test_nothing_is_shown_outside_the_block_and_the_logger_is_restored(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    logger = logging.getLogger("aio_classify")
    level, handlers = logger.level, list(logger.handlers)
    stream = io.StringIO()
    with notices_on(stream, "aio-classify"):
        assert logger.isEnabledFor(logging.INFO)
    assert (logger.level, logger.handlers) == (level, handlers)
    server.fail_next(503, retry_after=0)
    await client.list_jobs().first_page()
    assert stream.getvalue() == ""


def test_on_a_terminal_a_notice_first_erases_the_progress_bar() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    terminal.write("\rwait [####----] 1/2")
    with notices_on(terminal, "aio-classify"):
        logging.getLogger("aio_classify._http.transport").info("attempt %d failed", 1)
    assert terminal.getvalue().endswith("1/2\r\x1b[Kaio-classify: attempt 1 failed\n")
