"""Job writers for the command line: table, json, jsonl, csv and ids, one row at a time.

Every writer streams: a row is written as soon as its job arrives, so a listing of any length
runs in flat memory. The table alone holds its first ``TABLE_SAMPLE`` rows, to size its columns
to their content. JSON values come from the one cattrs converter, so the command line prints
exactly what the library reads.

What the server sent is untrusted (``sanitize``): the table shows control characters as visible
escapes, so no escape sequence reaches the terminal; CSV cells that a spreadsheet would run as a
formula get a leading ``'`` unless asked not to; JSON is strict (no ``NaN``); any value renders.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TextIO

from .._core.models import ClassifyJob
from .._core.sanitize import printable, spreadsheet_safe
from .._decode.conversion import converter

__all__ = ["FIELDS", "FORMATS", "NO_RULE_MATCHED", "JobWriter", "make_writer"]

FORMATS = ("table", "json", "jsonl", "csv", "ids")

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
#: The narrowest each table column but the id (never cut) may shrink to.
MIN_WIDTHS: dict[str, int] = {
    "status": 9,
    "type": 6,
    "confidence": 10,  # a cut header would say less than leaving the column out
    "created_at": 10,  # the date alone
    "updated_at": 10,
    "document_input_type": 6,
    "document_input_value": 10,
    "configuration_id": 8,
    "project_id": 8,
    "error_message": 10,
    "transaction_id": 8,
}
#: Rows a table holds before printing, to size its columns to their content.
TABLE_SAMPLE = 100
#: What a table shows as the type of a COMPLETED job that no rule matched (the demo says so too).
NO_RULE_MATCHED = "(no rule matched)"
DATETIME_FIELDS = frozenset({"created_at", "updated_at"})


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
        self.stream.write(job.to_json() + "\n")  # strict JSON: its escapes are safe to print


class JsonWriter(JobWriter):
    """One JSON array, still streamed: ``[`` first, one job a line, ``]`` at the end."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._separator = "\n"
        stream.write("[")

    def write(self, job: ClassifyJob) -> None:
        self.stream.write(self._separator + job.to_json())
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


class IdsWriter(JobWriter):
    """One id a line (LF), for ``| aio-classify get -`` or ``wait -``."""

    def write(self, job: ClassifyJob) -> None:
        self.stream.write(printable(job.id) + "\n")


class TableWriter(JobWriter):
    """Columns sized to their content and the terminal; the job id is never cut, so it can be
    pasted into ``get`` or ``wait``.

    The first ``TABLE_SAMPLE`` rows are held to measure: each column is as wide as its widest
    value when the terminal has room; otherwise the widest columns give way first, down to their
    minimum widths, then the rightmost are left out, and ``notice`` is told which, once. Later
    rows keep those widths (a longer value is cut with a mark; a longer id is printed whole).
    ``header_when_empty=False`` prints nothing at all when no job came.
    """

    def __init__(
        self,
        stream: TextIO,
        width: int | None = None,
        fields: Sequence[str] = TABLE_FIELDS,
        *,
        notice: Callable[[str], None] | None = None,
        header_when_empty: bool = True,
    ) -> None:
        super().__init__(stream)
        self._width = width or shutil.get_terminal_size((120, 24)).columns
        self._fields = fields
        self._notice = notice
        self._header_when_empty = header_when_empty
        self._held: list[list[str]] = []
        self._columns: list[tuple[str, int]] | None = None

    def write(self, job: ClassifyJob) -> None:
        cells = table_cells(job, self._fields)
        if self._columns is not None:
            self._row(cells)
            return
        self._held.append(cells)
        if len(self._held) >= TABLE_SAMPLE:
            self._print_held()

    def finish(self) -> None:
        if self._columns is None and (self._held or self._header_when_empty):
            self._print_held()
        super().finish()

    def _print_held(self) -> None:
        """Fit the columns to the rows held, print the header and those rows."""
        self._columns = fit_columns(self._fields, self._width, self._held)
        left_out = [name for name in self._fields if name not in dict(self._columns)]
        if left_out and self._notice is not None:
            self._notice(
                f"the table leaves out {', '.join(left_out)}: it is {self._width} columns wide "
                "(a wider terminal, fewer --fields or --format csv shows them)"
            )
        self._line([_fit(name, size) for name, size in self._columns])
        for cells in self._held:
            self._row(cells)
        self._held = []

    def _row(self, cells: list[str]) -> None:
        assert self._columns is not None
        by_field = dict(zip(self._fields, cells, strict=True))
        self._line([_cell(name, by_field[name], size) for name, size in self._columns])

    def _line(self, cells: list[str]) -> None:
        self.stream.write("  ".join(cells).rstrip() + "\n")


def fit_columns(
    fields: Sequence[str], width: int, rows: Sequence[Sequence[str]]
) -> list[tuple[str, int]]:
    """(field, width) for each column that fits in ``width``: as wide as its header and values
    when there is room, the widest giving way first, the id never cut."""
    names = list(fields)
    sizes = [max([len(name), *(len(row[i]) for row in rows)]) for i, name in enumerate(names)]
    excess = sum(sizes) + 2 * (len(sizes) - 1) - width
    while excess > 0:  # narrow the widest column that may still shrink, one character a step
        shrinkable = [
            i for i, name in enumerate(names) if name != "id" and sizes[i] > MIN_WIDTHS[name]
        ]
        if not shrinkable:
            break
        sizes[max(shrinkable, key=sizes.__getitem__)] -= 1
        excess -= 1
    # Then leave columns out from the right: never the id, and never the last one.
    while excess > 0 and len(names) > 1 and any(name != "id" for name in names):
        index = max(i for i, name in enumerate(names) if name != "id")
        names.pop(index)
        excess -= sizes.pop(index) + 2
    return list(zip(names, sizes, strict=True))


def table_cells(job: ClassifyJob, fields: Sequence[str]) -> list[str]:
    """Each field's whole text, printable: what a column as wide as its content shows."""
    record = flat_record(job)
    return [printable(_text(job, record, name)) for name in fields]


def _text(job: ClassifyJob, record: dict[str, Any], name: str) -> str:
    if name == "id":
        return job.id
    value = getattr(job, name) if name in DATETIME_FIELDS else record.get(name)
    if name == "type" and value is None and job.status == "COMPLETED":
        return NO_RULE_MATCHED
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if name == "confidence":
        return _number(value)
    return str(value)


def _cell(name: str, text: str, size: int) -> str:
    if name == "id":
        return text.ljust(size)
    if name in DATETIME_FIELDS and len(text) > size:
        text = text[:10]  # the date alone when the time does not fit
    return _fit(text, size)


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
    notice: Callable[[str], None] | None = None,
    header_when_empty: bool = True,
) -> JobWriter:
    """A writer for ``output_format``; ``fields`` chooses the columns of a table or CSV;
    ``csv_formulas`` writes CSV cells as sent, even those a spreadsheet would run; ``notice``
    is told which columns a table leaves out; ``header_when_empty=False``: a table with no job
    prints nothing."""
    if output_format == "table":
        return TableWriter(
            stream,
            fields=fields or TABLE_FIELDS,
            notice=notice,
            header_when_empty=header_when_empty,
        )
    if output_format == "csv":
        return CsvWriter(stream, fields or CSV_COLUMNS, formulas=csv_formulas)
    if fields is not None:
        raise ValueError("fields apply to the table and csv formats only")
    if output_format == "ids":
        return IdsWriter(stream)
    return JsonWriter(stream) if output_format == "json" else JsonLinesWriter(stream)
