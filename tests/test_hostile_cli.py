"""``aio-classify`` treats server text as untrusted: what it prints is safe for a terminal and a
spreadsheet, strict JSON stays strict, odd values render, and bad input or a closed pipe ends in
one line (or quietly), never a traceback. The CLI runs as a child process against a loopback
server that answers hostile jobs."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys

import pytest
from aiohttp import web

from helpers import ROOT, SCRIPTED_KEY, Handler, child_env, job, scripted

API_ERROR_STATUS = 1

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m\r\x08\x00\u202e\x9b"
HOSTILE = job(
    "cls-\x1b[2Jevil",
    status="COMPLETED\x1b[5m",
    result={"type": "invoice" + ESCAPES, "confidence": 0.5, "reasoning": "x"},
    error_message="line one\nline two" + ESCAPES,
    document_input_type="url",
    document_input_value='=HYPERLINK("http://evil.test","click")',
    configuration_id="+cmd|' /C calc'!A0",
    project_id="-2+3",
    transaction_id="@SUM(1+1)*cmd|' /C calc'!A0",
)


def env_for(url: str) -> dict[str, str]:
    return child_env(COLUMNS="200", LLAMA_CLOUD_BASE_URL=url, LLAMA_CLOUD_API_KEY=SCRIPTED_KEY)


async def run_cli(*args: str, url: str, stdin: bytes | None = None) -> tuple[int, bytes, str]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aio_classify",
        *args,
        "--max-retries",
        "0",
        cwd=ROOT,
        env=env_for(url),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(child.communicate(stdin), 60)
    assert child.returncode is not None
    return child.returncode, stdout, stderr.decode("utf-8", "replace")


def listing(*jobs: dict[str, object]) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        return web.json_response({"items": list(jobs), "next_page_token": None})

    return handle


def no_raw_controls(text: str) -> bool:
    return not any(
        (ord(char) < 32 and char != "\n") or 0x7F <= ord(char) < 0xA0 or char == "\u202e"
        for char in text
    )


async def test_the_table_shows_escape_sequences_as_visible_text() -> None:
    async with scripted(listing(HOSTILE)) as srv:
        code, out, err = await run_cli("list", url=srv.url)
    assert code == 0, err
    text = out.decode()
    assert no_raw_controls(text), repr(text)
    assert "\\x1b" in text


async def test_an_error_detail_with_escape_sequences_is_printed_visibly() -> None:
    async def refuse(_: web.Request) -> web.Response:
        return web.json_response({"detail": "denied" + ESCAPES}, status=403)

    async with scripted(refuse) as srv:
        code, _out, err = await run_cli("list", url=srv.url)
    assert code == API_ERROR_STATUS
    assert no_raw_controls(err), repr(err)
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("output", ["jsonl", "json"])
async def test_json_output_is_strict_and_keeps_the_servers_text_exactly(output: str) -> None:
    async with scripted(listing(HOSTILE)) as srv:
        code, out, err = await run_cli("list", "--format", output, url=srv.url)
    assert code == 0, err
    text = out.decode()
    records = (
        json.loads(text, parse_constant=pytest.fail)
        if output == "json"
        else [json.loads(line, parse_constant=pytest.fail) for line in text.splitlines()]
    )
    assert records[0]["id"] == HOSTILE["id"]  # escaped by JSON itself, so exact and safe
    assert no_raw_controls(text)


async def test_nan_from_the_server_never_reaches_json_output() -> None:
    body = b'{"items": [{"id": "a", "status": "COMPLETED", "result": {"confidence": NaN}}]}'

    async def nan_page(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async with scripted(nan_page) as srv:
        code, out, err = await run_cli("list", "--format", "json", url=srv.url)
    assert b"NaN" not in out
    assert code == API_ERROR_STATUS
    assert "Traceback" not in err


@pytest.mark.parametrize("number", [b"1e999", b"-1e400"])
async def test_a_number_beyond_double_range_is_an_api_error_with_no_dangling_output(
    number: bytes,
) -> None:
    body = b'{"items": [{"id": "a", "status": "COMPLETED", "result": {"confidence": %s}}]}' % number

    async def huge_page(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async with scripted(huge_page) as srv:
        code, out, err = await run_cli("list", "--format", "json", url=srv.url)
    assert code == API_ERROR_STATUS, err
    assert out.strip() in {b"", b"[]"}, out  # nothing, or a whole (empty) JSON document
    assert "result.confidence" in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


FORMULA_COLUMNS = ("document_input_value", "configuration_id", "project_id", "transaction_id")


async def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    async with scripted(listing(HOSTILE)) as srv:
        code, out, err = await run_cli("list", "--format", "csv", url=srv.url)
    assert code == 0, err
    (row,) = csv.DictReader(io.StringIO(out.decode(), newline=""))
    for column in FORMULA_COLUMNS:
        assert row[column] == "'" + str(HOSTILE[column]), column
    assert row["confidence"] == "0.5"  # numbers are ours, not text: left as they are


async def test_csv_formulas_can_be_let_through_on_request() -> None:
    async with scripted(listing(HOSTILE)) as srv:
        code, out, err = await run_cli("list", "--format", "csv", "--csv-formulas", url=srv.url)
    assert code == 0, err
    (row,) = csv.DictReader(io.StringIO(out.decode(), newline=""))
    for column in FORMULA_COLUMNS:
        assert row[column] == HOSTILE[column], column


ODD_VALUES = [
    {"result": {"confidence": 10**400}},
    {"result": {"confidence": -1e308, "type": ""}},
    {"status": "Q" * 5000},
    {"id": ""},
    {"id": "\u0301\u200b" * 50},
    {"created_at": "0001-01-01T00:00:00+14:00"},
    {"result": {"type": "\ud83d\ude00" * 40}},
]


@pytest.mark.parametrize("output", ["table", "csv", "jsonl", "json"])
async def test_odd_values_render_instead_of_crashing(output: str) -> None:
    odd_jobs = [{**job(f"cls-{n}"), **odd} for n, odd in enumerate(ODD_VALUES)]
    async with scripted(listing(*odd_jobs)) as srv:
        code, out, err = await run_cli("list", "--format", output, url=srv.url)
    assert code == 0, err
    assert "Traceback" not in err
    assert out.decode().count("\n") >= len(ODD_VALUES)


async def test_bad_bytes_on_stdin_are_a_one_line_error() -> None:
    async with scripted(listing(job())) as srv:
        code, _, err = await run_cli("get", "-", url=srv.url, stdin=b"cls-1\n\xff\xfe\x80bad\n")
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "UTF-8" in err


async def test_a_closed_stdout_pipe_ends_quietly_with_its_own_status() -> None:
    async def endless(request: web.Request) -> web.Response:
        n = int(request.query.get("page_token", "0"))
        items = [job(f"cls-{n}-{i}") for i in range(100)]
        return web.json_response({"items": items, "next_page_token": str(n + 1)})

    read_fd, write_fd = os.pipe()
    async with scripted(endless) as srv:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aio_classify",
            "list",
            "--format",
            "jsonl",
            cwd=ROOT,
            env=env_for(srv.url),
            stdout=write_fd,
            stderr=asyncio.subprocess.PIPE,
        )
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as reader:  # like `| head`: read a little, then hang up
            await asyncio.to_thread(reader.read, 10_000)  # the loop keeps serving meanwhile
        _, stderr = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode not in (0, API_ERROR_STATUS)
    assert stderr == b""


async def test_a_carriage_return_in_a_cell_cannot_start_a_csv_row_of_its_own() -> None:
    sneaky = job("cls-1", error_message="ok\rforged-row")
    async with scripted(listing(sneaky, job("cls-2"))) as srv:
        code, out, err = await run_cli("list", "--format", "csv", url=srv.url)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out.decode(), newline="")))
    assert [row["id"] for row in rows] == ["cls-1", "cls-2"]
    assert rows[0]["error_message"] == "ok\rforged-row"
