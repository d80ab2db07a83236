"""The CLI's writers and progress display, without a process: shapes a terminal would show."""

from __future__ import annotations

import io
import json

from aio_classify.cli.output import TableWriter, make_writer
from aio_classify.cli.progress import Progress
from aio_classify.conversion import converter, structure_job

JOB = structure_job(
    {
        "id": "cls-" + "a" * 40,
        "status": "COMPLETED",
        "created_at": "2026-01-31T12:00:00Z",
        "configuration": {"rules": [{"type": "invoice", "description": "x" * 12}], "mode": "FAST"},
        "result": {"confidence": 0.8765, "type": "invoice"},
    }
)


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


async def test_live_progress_redraws_one_line_in_place() -> None:
    out = io.StringIO()
    async with Progress(2, out, live=True, interval=10) as progress:
        progress.record(JOB)
        progress.render()
    frames = out.getvalue().split("\r")[1:]
    assert frames[-1].endswith("\x1b[K\n")
    assert out.getvalue().count("\n") == 1  # only the final frame ends the line
    assert "wait [############------------] 1/2  1 done, 0 failed, 1 pending" in frames[1]
    assert "2/2" not in out.getvalue()
