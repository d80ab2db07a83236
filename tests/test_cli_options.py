"""What the API commands share: ids from the arguments or stdin, and output options checked
before any request."""

from __future__ import annotations

import argparse
import io

import pytest

from aio_classify.cli._exit import UsageError
from aio_classify.cli._options import check_output_options, read_ids


def test_ids_come_from_arguments_and_stdin_in_order_without_repeats() -> None:
    stdin = io.StringIO("b\n\n  c  \na\n")
    assert read_ids(["a", "-", "d", "b"], stdin) == ["a", "b", "c", "d"]


def test_ids_lose_surrounding_whitespace_cr_included_and_a_header_line_id_is_skipped() -> None:
    # What ``list --format csv --fields id`` prints: a header, then CRLF-ended lines.
    stdin = io.StringIO("id\r\ncls-1\r\n cls-2\t\r\n\r\n")
    assert read_ids(["-", "cls-3\r", " cls-1 "], stdin) == ["cls-1", "cls-2", "cls-3"]
    assert read_ids(["-"], io.StringIO("\nid\nid\n")) == ["id"]  # only a first line is a header
    with pytest.raises(UsageError, match="no job ids given"):
        read_ids(["\r", " "], io.StringIO(""))


def test_an_empty_stdin_is_nothing_to_do_but_no_ids_at_all_is_a_usage_error() -> None:
    assert read_ids(["-"], io.StringIO("")) == []
    with pytest.raises(UsageError, match="no file ids given"):
        read_ids([""], io.StringIO("x\n"), what="file ids")


def test_stdin_that_is_not_utf8_names_the_line() -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"job-1\n\njob-\xff\n"), errors="surrogateescape")
    with pytest.raises(UsageError, match=r"not UTF-8 text \(line 3\)"):
        read_ids(["-"], stdin)


@pytest.mark.parametrize(
    ("output", "refused"),
    [("json", True), ("jsonl", True), ("ids", True), ("table", False), ("csv", False)],
)
def test_fields_go_only_with_the_table_and_csv(output: str, refused: bool) -> None:
    args = argparse.Namespace(format=output, fields=["id"])
    if refused:
        with pytest.raises(UsageError, match="--fields applies"):
            check_output_options(args)
    else:
        check_output_options(args)
    check_output_options(argparse.Namespace(format=output, fields=None))
