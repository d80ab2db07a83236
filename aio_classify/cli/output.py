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
from collections.abc import Callable
from typing import Any, TextIO

from ..conversion import converter
from ..models import ClassifyJob
from ..sanitize import printable, spreadsheet_safe

__all__ = ["FORMATS", "JobWriter", "make_writer"]

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


def job_json(job: ClassifyJob) -> str:
    # JSON's own escapes make any string safe to print; allow_nan=False keeps it strict JSON
    # (decoding already refuses NaN, so a record never holds one).
    return json.dumps(converter.unstructure(job), separators=(",", ":"), allow_nan=False)


def csv_row(job: ClassifyJob, *, formulas: bool = False) -> list[Any]:
    """One flat row; the nested result is spread into ``type`` and ``confidence``. Text cells
    that a spreadsheet would run as formulas are neutralised unless ``formulas``."""
    record = converter.unstructure(job)
    result = record.get("result") or {}
    record["type"] = result.get("type")
    record["confidence"] = result.get("confidence")
    cells = ["" if record.get(name) is None else record[name] for name in CSV_COLUMNS]
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
    def __init__(self, stream: TextIO, *, formulas: bool = False) -> None:
        super().__init__(stream)
        self._formulas = formulas
        # RFC 4180's CRLF: the csv module then quotes any cell holding a CR or LF, so a
        # server's text cannot start a row of its own (with "\n" a lone CR stays unquoted).
        self._csv = csv.writer(stream, lineterminator="\r\n")
        self._csv.writerow(CSV_COLUMNS)

    def write(self, job: ClassifyJob) -> None:
        self._csv.writerow(csv_row(job, formulas=self._formulas))


class TableWriter(JobWriter):
    """Fixed columns, the id column shrunk (and any line cut) to fit the terminal width.

    Widths are fixed rather than measured so the table can stream: measuring would mean reading
    every job before printing the first.
    """

    FIXED = (("status", 9), ("type", 16), ("confidence", 10), ("created_at", 19))

    def __init__(self, stream: TextIO, width: int | None = None) -> None:
        super().__init__(stream)
        self._width = width or shutil.get_terminal_size((120, 24)).columns
        fixed = sum(size + 2 for _, size in self.FIXED)
        self._id_width = max(8, min(36, self._width - fixed))
        self._line(["id", *(name for name, _ in self.FIXED)])

    def write(self, job: ClassifyJob) -> None:
        result = job.result
        confidence = result.confidence if result is not None else None
        created = job.created_at.strftime("%Y-%m-%d %H:%M:%S") if job.created_at else ""
        self._line(
            [
                job.id,
                str(job.status),
                (result.type if result is not None else None) or "-",
                _number(confidence),
                created,
            ]
        )

    def _line(self, cells: list[str]) -> None:
        sizes = [self._id_width, *(size for _, size in self.FIXED)]
        text = "  ".join(
            _fit(printable(cell), size) for cell, size in zip(cells, sizes, strict=True)
        )
        self.stream.write(text.rstrip()[: self._width] + "\n")


def _number(value: float | None) -> str:
    """Two decimals, or the value's start when it has none to show (an integer of 400 digits)."""
    if value is None:
        return "-"
    try:
        return f"{value:.2f}"
    except (OverflowError, ValueError, TypeError):
        return str(value)[:12]


def _fit(text: str, size: int) -> str:
    return text.ljust(size) if len(text) <= size else text[: size - 1] + "…"


_WRITERS: dict[str, Callable[[TextIO], JobWriter]] = {
    "table": TableWriter,
    "json": JsonWriter,
    "jsonl": JsonLinesWriter,
}


def make_writer(output_format: str, stream: TextIO, *, csv_formulas: bool = False) -> JobWriter:
    """``csv_formulas`` writes CSV cells as sent, even those a spreadsheet would run."""
    if output_format == "csv":
        return CsvWriter(stream, formulas=csv_formulas)
    return _WRITERS[output_format](stream)
