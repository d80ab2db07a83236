"""Job writers for the command line: table, json, jsonl and csv, one row at a time.

Every writer streams: a row is written as soon as its job arrives and nothing is kept, so a
listing of any length prints its first rows at once and runs in flat memory. JSON values come
from the one cattrs converter, so the command line prints exactly what the library reads.

What the server sent is untrusted (``sanitize``): the table shows control characters as visible
escapes, so no escape sequence reaches the terminal; CSV cells that a spreadsheet would run as a
formula get a leading ``'`` unless asked not to; JSON is strict (no ``NaN``); any value renders.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from .._core.models import ClassifyJob
from .._core.sanitize import printable, spreadsheet_safe
from .._decode.conversion import converter

__all__ = ["FIELDS", "FORMATS", "JobWriter", "make_writer"]

FORMATS = ("table", "json", "jsonl", "csv")

CSV_COLUMNS = (
    "id",
    "status",
    "type",
    "confidence",
    "created_at",
    "updated_at",
    "document_input_type",
    "document_input_value",
    "configuration_id",
    "project_id",
    "error_message",
    "transaction_id",
)
#: Every field a table or CSV can show (``--fields``), in the CSV's default order.
FIELDS = CSV_COLUMNS
TABLE_FIELDS = ("id", "status", "type", "confidence", "created_at")
#: Width the id column takes before any id is seen (a UUID's length).
ID_WIDTH = 36
#: (preferred, minimum) width of each table column but the id, which is never cut.
TABLE_WIDTHS: dict[str, tuple[int, int]] = {
    "status": (9, 9),
    "type": (16, 6),
    "confidence": (10, 10),  # a cut header would say less than leaving the column out
    "created_at": (19, 10),
    "updated_at": (19, 10),
    "document_input_type": (13, 6),
    "document_input_value": (32, 10),
    "configuration_id": (36, 8),
    "project_id": (36, 8),
    "error_message": (40, 10),
    "transaction_id": (36, 8),
}
DATETIME_FIELDS = frozenset({"created_at", "updated_at"})


def job_json(job: ClassifyJob) -> str:
    # JSON's own escapes make any string safe to print; allow_nan=False keeps it strict JSON
    # (decoding already refuses NaN, so a record never holds one).
    return json.dumps(converter.unstructure(job), separators=(",", ":"), allow_nan=False)


def flat_record(job: ClassifyJob) -> dict[str, Any]:
    """The job as JSON values, the nested result spread into ``type`` and ``confidence``."""
    record: dict[str, Any] = converter.unstructure(job)
    result = record.get("result") or {}
    record["type"] = result.get("type")
    record["confidence"] = result.get("confidence")
    return record


def csv_row(
    job: ClassifyJob, fields: Sequence[str] = CSV_COLUMNS, *, formulas: bool = False
) -> list[Any]:
    """One flat row of ``fields``. Text cells that a spreadsheet would run as formulas are
    neutralised unless ``formulas``."""
    record = flat_record(job)
    cells = ["" if record.get(name) is None else record[name] for name in fields]
    if formulas:
        return cells
    return [spreadsheet_safe(cell) if isinstance(cell, str) else cell for cell in cells]


class JobWriter:
    """Writes jobs to a text stream; call ``finish()`` once after the last one."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, job: ClassifyJob) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        self.stream.flush()


class JsonLinesWriter(JobWriter):
    def write(self, job: ClassifyJob) -> None:
        self.stream.write(job_json(job) + "\n")


class JsonWriter(JobWriter):
    """One JSON array, still streamed: ``[`` first, one job a line, ``]`` at the end."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._separator = "\n"
        stream.write("[")

    def write(self, job: ClassifyJob) -> None:
        self.stream.write(self._separator + job_json(job))
        self._separator = ",\n"

    def finish(self) -> None:
        self.stream.write("\n]\n" if self._separator == ",\n" else "]\n")
        super().finish()


class CsvWriter(JobWriter):
    def __init__(
        self, stream: TextIO, fields: Sequence[str] = CSV_COLUMNS, *, formulas: bool = False
    ) -> None:
        super().__init__(stream)
        self._fields = fields
        self._formulas = formulas
        # RFC 4180's CRLF: the csv module then quotes any cell holding a CR or LF, so a
        # server's text cannot start a row of its own (with "\n" a lone CR stays unquoted).
        self._csv = csv.writer(stream, lineterminator="\r\n")
        self._csv.writerow(fields)

    def write(self, job: ClassifyJob) -> None:
        self._csv.writerow(csv_row(job, self._fields, formulas=self._formulas))


class TableWriter(JobWriter):
    """Columns sized to the terminal; the job id is never cut, so it can be pasted into ``get``
    or ``wait``: the other columns shrink, from the right, down to their minimum widths, then the
    rightmost ones are left out.

    Widths are decided at the first row, not measured over all rows, so the table can stream:
    the id column is as wide as the first job's id, and a longer id later is still printed whole.
    """

    def __init__(
        self, stream: TextIO, width: int | None = None, fields: Sequence[str] = TABLE_FIELDS
    ) -> None:
        super().__init__(stream)
        self._width = width or shutil.get_terminal_size((120, 24)).columns
        self._fields = fields
        self._columns: list[tuple[str, int]] | None = None

    def write(self, job: ClassifyJob) -> None:
        columns = self._columns or self._start(len(job.id))
        record = flat_record(job)
        self._line([_table_cell(job, record, name, size) for name, size in columns])

    def finish(self) -> None:
        if self._columns is None:  # no job at all: the header still says what would be shown
            self._start(ID_WIDTH)
        super().finish()

    def _start(self, id_width: int) -> list[tuple[str, int]]:
        """Fit the columns and print the header."""
        self._columns = fit_columns(self._fields, self._width, id_width)
        self._line([_fit(name, size) for name, size in self._columns])
        return self._columns

    def _line(self, cells: list[str]) -> None:
        self.stream.write("  ".join(cells).rstrip() + "\n")


def fit_columns(fields: Sequence[str], width: int, id_width: int) -> list[tuple[str, int]]:
    """(field, width) for each column that fits in ``width``, the id at its full width."""
    columns = [(name, id_width if name == "id" else TABLE_WIDTHS[name][0]) for name in fields]
    excess = sum(size for _, size in columns) + 2 * (len(columns) - 1) - width
    for index in reversed(range(len(columns))):  # shrink from the right
        name, size = columns[index]
        if excess <= 0:
            break
        if name != "id":
            smaller = max(TABLE_WIDTHS[name][1], size - excess)
            excess -= size - smaller
            columns[index] = (name, smaller)
    # Then leave columns out from the right: never the id, and never the last one.
    while excess > 0 and len(columns) > 1 and any(name != "id" for name, _ in columns):
        index = max(i for i, (name, _) in enumerate(columns) if name != "id")
        excess -= columns.pop(index)[1] + 2
    return columns


def _table_cell(job: ClassifyJob, record: dict[str, Any], name: str, size: int) -> str:
    if name == "id":
        return printable(job.id).ljust(size)
    value = getattr(job, name) if name in DATETIME_FIELDS else record.get(name)
    if value is None:
        text = "-"
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S" if size >= 19 else "%Y-%m-%d")
    elif name == "confidence":
        text = _number(value)
    else:
        text = str(value)
    return _fit(printable(text), size)


def _number(value: Any) -> str:
    """Two decimals, or the value's start when it has none to show (an integer of 400 digits)."""
    try:
        return f"{value:.2f}"
    except (OverflowError, ValueError, TypeError):
        return str(value)[:12]


def _fit(text: str, size: int) -> str:
    return text.ljust(size) if len(text) <= size else text[: size - 1] + "…"


def make_writer(
    output_format: str,
    stream: TextIO,
    fields: Sequence[str] | None = None,
    *,
    csv_formulas: bool = False,
) -> JobWriter:
    """A writer for ``output_format``; ``fields`` chooses the columns of a table or CSV;
    ``csv_formulas`` writes CSV cells as sent, even those a spreadsheet would run."""
    if output_format == "table":
        return TableWriter(stream, fields=fields or TABLE_FIELDS)
    if output_format == "csv":
        return CsvWriter(stream, fields or CSV_COLUMNS, formulas=csv_formulas)
    if fields is not None:
        raise ValueError("fields apply to the table and csv formats only")
    return JsonWriter(stream) if output_format == "json" else JsonLinesWriter(stream)
