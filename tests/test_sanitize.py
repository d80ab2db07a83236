"""The rules every piece of server text goes through before a message, a log or a terminal."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aio_classify import ClassifyError, JobFailedError, PaginationError
from aio_classify._core.models import ClassifyJob
from aio_classify._core.sanitize import (
    MAX_MESSAGE_CHARS,
    clip,
    detached,
    message,
    printable,
    redact,
    spreadsheet_safe,
)


def test_printable_shows_control_and_format_characters_as_escapes() -> None:
    assert printable("a\x1b[31mb\r\n\x00\u202e\u200bc") == "a\\x1b[31mb\\r\\n\\x00\\u202e\\u200bc"
    assert printable("plain text, émoji ✓") == "plain text, émoji ✓"


def test_clip_says_how_much_was_cut() -> None:
    assert clip("abcdef", 3) == "abc... (3 more characters)"
    assert clip("abc", 3) == "abc"


def test_redact_replaces_every_occurrence() -> None:
    assert redact("k1-0123456789 and k1-0123456789", "k1-0123456789") == "[redacted] and [redacted]"
    assert redact("a short key k1 is left alone", "k1") == "a short key k1 is left alone"
    assert redact("nothing", None) == "nothing"


def test_detached_drops_cause_and_context() -> None:
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise ValueError("outer") from inner
    except ValueError as outer:
        error = detached(outer)
    assert error.__cause__ is None and error.__context__ is None
    assert error.__suppress_context__


@settings(deadline=None)
@given(st.text(max_size=5000))
def test_every_classify_error_message_is_short_and_printable(text: str) -> None:
    for error in (ClassifyError(text), PaginationError(text, token=text)):
        shown = str(error)
        assert len(shown) <= MAX_MESSAGE_CHARS + 40
        assert shown.isprintable()
    assert message(text) == str(ClassifyError(text))


def test_a_job_failed_error_keeps_the_whole_job() -> None:
    job = ClassifyJob(id="x" * 10_000, status="FAILED", error_message="\x1b[2J" * 100_000)
    error = JobFailedError(job)
    assert len(str(error)) < 1100
    assert "\x1b" not in str(error)
    assert error.job is job


def test_spreadsheet_safe_neutralises_every_formula_start() -> None:
    for start in "=+-@\t\r":
        assert spreadsheet_safe(start + "cmd") == "'" + start + "cmd"
    assert spreadsheet_safe("plain") == "plain"
    assert spreadsheet_safe("") == ""
