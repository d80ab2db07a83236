"""The CLI's writers, without a process: shapes a terminal or a pipe would get."""

from __future__ import annotations

import io
import json

import attrs
import pytest

from aio_classify._core.models import ClassifyJob
from aio_classify._decode.conversion import converter, structure_job
from aio_classify.cli._output import TABLE_FIELDS, TableWriter, make_writer

from helpers import TABLE_JOB as JOB


def test_unstructured_jobs_hold_only_json_types() -> None:
    record = converter.unstructure(structure_job({"id": "a", "status": "QUEUED"}))
    assert record["status"] == "QUEUED"
    record = converter.unstructure(JOB)
    assert type(record["status"]) is str
    assert type(record["configuration"]["mode"]) is str
    assert record["created_at"] == "2026-01-31T12:00:00+00:00"
    assert json.loads(json.dumps(record)) == record


@pytest.mark.parametrize("width", [20, 40, 60, 80, 100, 200])
def test_table_ids_are_never_cut_other_columns_give_way(width: int) -> None:
    long_id = "cls-" + "b" * 60  # longer than the first id: printed whole all the same
    out = io.StringIO()
    table = TableWriter(out, width=width)
    table.write(JOB)
    table.finish()  # prints the rows held so far: the widths are the first row's
    for job in (attrs.evolve(JOB, id=long_id), attrs.evolve(JOB, id="cls-c", result=None)):
        table.write(job)
    header, *rows = out.getvalue().splitlines()
    assert [row.split()[0] for row in rows] == [JOB.id, long_id, "cls-c"]
    assert all(len(line) <= max(width, len(JOB.id)) for line in (header, rows[0], rows[2]))
    shown = header.split()
    assert shown[0] == "id"
    # Columns are left out from the right; a shrunk header is cut, with a mark.
    assert all(
        name == shown_name or name.startswith(shown_name.removesuffix("…"))
        for name, shown_name in zip(TABLE_FIELDS, shown, strict=False)
    )


def test_table_shrinks_the_widest_columns_before_leaving_any_out() -> None:
    id_width = len(JOB.id)  # columns: id, status 9, type 7, confidence 10, created_at 19
    wide, _ = table_lines(JOB, width=id_width + 2 + 9 + 2 + 7 + 2 + 10 + 2 + 19)
    assert wide.split() == ["id", "status", "type", "confidence", "created_at"]
    header, row = table_lines(JOB, width=id_width + 2 + 9 + 2 + 7 + 2 + 10 + 2 + 10)
    assert header.split() == ["id", "status", "type", "confidence", "created_at"]
    assert row.split()[-1] == "2026-01-31"  # the date alone when the time does not fit
    header, row = table_lines(JOB, width=id_width + 2 + 9 + 2 + 6 + 2 + 10 + 2 + 9)
    assert header.split() == ["id", "status", "type", "confidence"]
    assert row.split() == [JOB.id, "COMPLETED", "invoi…", "0.88"]


def table_lines(
    job: ClassifyJob,
    width: int,
    fields: tuple[str, ...] = TABLE_FIELDS,
    notices: list[str] | None = None,
) -> list[str]:
    out = io.StringIO()
    table = TableWriter(
        out, width=width, fields=fields, notice=None if notices is None else notices.append
    )
    table.write(job)
    table.finish()
    return out.getvalue().splitlines()


LONG_TYPE = "shipping_manifest_with_customs_declaration"
LONG_ERROR = "Classification timed out after 600 seconds waiting for the parser to respond"


def test_on_a_wide_terminal_columns_grow_to_their_content() -> None:
    failed = attrs.evolve(JOB, status="FAILED", error_message=LONG_ERROR)
    typed = attrs.evolve(JOB, result=attrs.evolve(JOB.result, type=LONG_TYPE))
    out = io.StringIO()
    table = TableWriter(out, width=200, fields=("id", "status", "type", "error_message"))
    for job in (failed, typed):
        table.write(job)
    table.finish()
    text = out.getvalue()
    assert LONG_TYPE in text and LONG_ERROR in text and "…" not in text
    header = text.splitlines()[0]
    assert header.index("error_message") - header.index("type") == len(LONG_TYPE) + 2


def test_a_field_that_cannot_fit_is_named_in_one_notice() -> None:
    notices: list[str] = []
    fields = ("id", "status", "type", "confidence", "created_at", "error_message")
    header, _ = table_lines(JOB, 80, fields, notices)
    assert header.split() == ["id", "status", "type", "confidence"]
    assert notices == [
        "the table leaves out created_at, error_message: it is 80 columns wide "
        "(a wider terminal, fewer --fields or --format csv shows them)"
    ]
    notices.clear()
    table_lines(JOB, 200, fields, notices)
    assert notices == []


def test_a_completed_job_no_rule_matched_says_so() -> None:
    unmatched = attrs.evolve(JOB, result=attrs.evolve(JOB.result, type=None))
    _, row = table_lines(unmatched, 200)
    assert "(no rule matched)" in row
    _, row = table_lines(attrs.evolve(JOB, status="RUNNING", result=None), 200)
    assert row.split()[2] == "-"


def test_ids_are_one_a_line_with_lf_and_nothing_else() -> None:
    out = io.StringIO()
    writer = make_writer("ids", out)
    writer.write(JOB)
    writer.write(attrs.evolve(JOB, id="cls-\x1b[2J"))
    writer.finish()
    assert out.getvalue() == f"{JOB.id}\ncls-\\x1b[2J\n"
    with pytest.raises(ValueError, match="table and csv"):
        make_writer("ids", out, ["id"])


def test_a_table_without_jobs_prints_nothing_when_asked_not_to() -> None:
    out = io.StringIO()
    make_writer("table", out, header_when_empty=False).finish()
    assert out.getvalue() == ""


def test_fields_choose_the_columns_of_a_table_and_a_csv() -> None:
    failed = attrs.evolve(JOB, status="FAILED", error_message="Document could not be parsed")
    header, row = table_lines(failed, 120, ("id", "error_message", "status"))
    assert header.split() == ["id", "error_message", "status"]
    assert row.split("  ")[0] == JOB.id
    assert "Document could not be parsed" in row
    out = io.StringIO()
    writer = make_writer("csv", out, ["status", "id", "confidence"])
    writer.write(failed)
    writer.finish()
    assert out.getvalue().splitlines() == ["status,id,confidence", f"FAILED,{JOB.id},0.8765"]
    with pytest.raises(ValueError, match="table and csv"):
        make_writer("jsonl", out, ["id"])


def test_an_empty_table_still_has_its_header() -> None:
    out = io.StringIO()
    make_writer("table", out).finish()
    assert out.getvalue().split() == list(TABLE_FIELDS)


def test_empty_json_listing_is_an_empty_array() -> None:
    out = io.StringIO()
    make_writer("json", out).finish()
    assert json.loads(out.getvalue()) == []


def test_a_table_keeps_one_column_however_narrow() -> None:
    out = io.StringIO()
    table = TableWriter(out, width=5, fields=("status", "error_message"))
    table.write(JOB)
    table.write(JOB)
    table.finish()
    assert out.getvalue().splitlines() == ["status", "COMPLETED", "COMPLETED"]
