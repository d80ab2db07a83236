"""The CLI's writers, without a process: shapes a terminal or a pipe would get."""

from __future__ import annotations

import io
import json

from aio_classify.cli.output import TableWriter, make_writer
from aio_classify.conversion import converter, structure_job

from helpers import TABLE_JOB as JOB


def test_unstructured_jobs_hold_only_json_types() -> None:
    record = converter.unstructure(structure_job({"id": "a", "status": "QUEUED"}))
    assert record["status"] == "QUEUED"
    record = converter.unstructure(JOB)
    assert type(record["status"]) is str
    assert type(record["configuration"]["mode"]) is str
    assert record["created_at"] == "2026-01-31T12:00:00+00:00"
    assert json.loads(json.dumps(record)) == record


def test_table_cuts_to_the_width_and_shortens_long_ids() -> None:
    out = io.StringIO()
    table = TableWriter(out, width=70)
    table.write(JOB)
    header, row = out.getvalue().splitlines()
    assert max(len(header), len(row)) <= 70
    assert row.split()[0] == "cls-aaa…"  # the id column shrank to its minimum, 8
    assert "COMPLETED" in row


def test_empty_json_listing_is_an_empty_array() -> None:
    out = io.StringIO()
    make_writer("json", out).finish()
    assert json.loads(out.getvalue()) == []
