"""``aio-classify`` driven as a user drives it: arguments in; output, errors and exit code out.

Most tests call ``main`` in this process, in a worker thread (it runs its own event loop while the
fake server keeps serving in the test's), with the environment and the three standard streams
swapped for the call. A child process is started only where the process is the point: Ctrl-C,
``python -m aio_classify``, the standalone fake server, and peak memory.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest

from aio_classify.cli import ExitCode, main
from aio_classify.testing import FakeClassifyServer

from helpers import ROOT, bash, child_env, list_calls


def cli_env(server: FakeClassifyServer | None = None, **extra: str) -> dict[str, str]:
    """The environment of a CLI run: a 100-column terminal unless ``extra`` says otherwise."""
    return child_env(server, **{"COLUMNS": "100", **extra})


def call_main(args: tuple[str, ...], env: dict[str, str], input: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, env, clear=True),
        mock.patch.multiple(sys, stdin=io.StringIO(input), stdout=stdout, stderr=stderr),
    ):
        code = main(list(args))
    return code, stdout.getvalue(), stderr.getvalue()


async def run_cli(
    *args: str, env: dict[str, str], input: str = "", seconds: float = 60
) -> tuple[int, str, str]:
    """Run the CLI in this process to its end; (exit code, stdout, stderr)."""
    return await asyncio.wait_for(asyncio.to_thread(call_main, args, env, input), seconds)


async def start(
    *args: str, env: dict[str, str], stdin: int | None = None
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aio_classify",
        *args,
        cwd=ROOT,
        env=env,
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def unreachable_env() -> dict[str, str]:
    """A key, and a base URL where nothing listens (port 9, discard)."""
    return cli_env(LLAMA_CLOUD_API_KEY="k", LLAMA_CLOUD_BASE_URL="http://127.0.0.1:9")


def assert_clean(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert "Unclosed" not in stderr
    assert "Task was destroyed" not in stderr


# -- usage errors: one line, exit 2, no server needed --------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["list", "--frobnicate"],
        ["list", "--status", "DONE"],
        ["list", "--created-after", "yesterday"],
        ["list", "--created-before", "2026-13-45"],
        ["list", "--limit", "0"],
        ["list", "--page-size", "101"],
        ["list", "--timeout", "-1"],
        ["get"],
        ["wait", "--poll-interval", "soon", "job-1"],
        ["--base-url", "http://example.com", "--api-key", "k", "list"],
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str]) -> None:
    env = cli_env(LLAMA_CLOUD_API_KEY="k", LLAMA_CLOUD_BASE_URL="https://example.invalid")
    code, stdout, stderr = call_main(tuple(args), env, "")
    assert code == ExitCode.USAGE == 2, stderr
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("aio-classify")
    assert "error:" in stderr


def test_a_missing_key_is_a_usage_error() -> None:
    args = ("list", "--base-url", "https://example.invalid")
    code, _, stderr = call_main(args, cli_env(), "")
    assert code == 2
    assert stderr == (
        "aio-classify list: error: no API key: pass --api-key or set LLAMA_CLOUD_API_KEY "
        "(`aio-classify demo` needs none)\n"
    )


def test_help_lists_the_commands_and_every_exit_code() -> None:
    code, stdout, _ = call_main(("--help",), cli_env(), "")
    assert code == 0
    for command in ("list", "get", "wait", "fake-server", "demo"):
        assert command in stdout
    listed = re.findall(r"^ +(\d+)  \S", stdout.split("exit codes:")[1], re.M)
    assert (
        listed == [str(member.value) for member in ExitCode] == ["0", "1", "2", "3", "130", "141"]
    )
    assert "wait --exit-status: a job ended FAILED or CANCELLED" in stdout


def test_python_dash_m_is_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aio_classify", "list", "--limit", "0"],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr == call_main(("list", "--limit", "0"), cli_env(), "")[2]


# -- API and network errors: exit 1 ---------------------------------------------------------------


async def test_a_server_refusal_exits_1_with_one_line(server: FakeClassifyServer) -> None:
    env = cli_env(server, LLAMA_CLOUD_API_KEY="wrong-key")
    code, stdout, stderr = await run_cli("list", env=env)
    assert code == 1
    assert stdout == ""
    assert re.fullmatch(r"aio-classify: error: GET /api/v2/classify answered 401: .*\n", stderr)
    assert "wrong-key" not in stderr


async def test_an_unreachable_server_exits_1_and_debug_adds_the_traceback() -> None:
    env = unreachable_env()
    code, _, stderr = await run_cli("list", "--max-retries", "0", env=env)
    assert code == 1
    assert stderr == (
        "aio-classify: error: GET /api/v2/classify failed: "
        "cannot connect to http://127.0.0.1:9 (Connection refused)\n"
    )
    code, _, stderr = await run_cli("--debug", "list", "--max-retries", "0", env=env)
    assert code == 1
    assert "Traceback" in stderr
    assert "APIConnectionError" in stderr


async def test_debug_shows_each_request_with_its_request_id(server: FakeClassifyServer) -> None:
    server.seed_jobs(2)
    server.fail_next(503, headers={"x-request-id": "req-cli-1"})
    child = await start("--debug", "list", env=cli_env(server))
    _, stderr = await child.communicate()
    assert child.returncode == 0
    requests = [line for line in stderr.decode().splitlines() if "GET /api/v2/classify ->" in line]
    assert len(requests) == 2  # one line per request
    assert re.search(r"-> 503 in [\d.]+ ms \(request id req-cli-1\)$", requests[0])
    assert "-> 200 in" in requests[1]


async def test_a_refused_connection_says_so_at_once_and_names_the_url() -> None:
    env = unreachable_env()
    code, _, stderr = await run_cli("list", "--max-retries", "1", env=env)
    assert code == 1
    notice, error = stderr.splitlines()
    found = re.fullmatch(
        r"aio-classify: attempt 1 failed \(GET /api/v2/classify failed: cannot connect to "
        r"http://127\.0\.0\.1:9 \(Connection refused\)\); retrying in ([\d.]+)s",
        notice,
    )
    assert found is not None, notice
    # The notice comes as the attempt fails; its retry is due within a second (0.5 s + jitter).
    assert float(found[1]) <= 1.0
    assert "ssl" not in error and error.endswith("(Connection refused)")


# -- list -----------------------------------------------------------------------------------------


async def test_list_formats_agree(server: FakeClassifyServer) -> None:
    server.seed_jobs(45)
    env = cli_env(server)
    _, jsonl, _ = await run_cli("list", "--format", "jsonl", "--page-size", "10", env=env)
    _, whole, _ = await run_cli("list", "--format", "json", env=env)
    _, table, _ = await run_cli("list", env=env)
    code, text, stderr = await run_cli("list", "--format", "csv", env=env)
    assert code == 0
    assert_clean(stderr)
    records = [json.loads(line) for line in jsonl.splitlines()]
    assert records == json.loads(whole)
    assert [r["id"] for r in records] == server.job_ids
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["id"] for row in rows] == server.job_ids
    assert [row["status"] for row in rows] == [r["status"] for r in records]
    lines = table.splitlines()
    assert lines[0].split() == ["id", "status", "type", "confidence", "created_at"]
    assert len(lines) == 46
    assert all(len(line) <= 100 for line in lines)


async def test_table_fits_a_narrow_terminal(server: FakeClassifyServer) -> None:
    server.seed_jobs(5)
    code, table, _ = await run_cli("list", env=cli_env(server, COLUMNS="50"))
    assert code == 0
    assert all(len(line) <= 50 for line in table.splitlines())


async def test_list_filters_and_limit(server: FakeClassifyServer) -> None:
    server.seed_jobs(60, statuses={"COMPLETED": 1, "FAILED": 1})
    server.seed_jobs(5, configuration_id="cfg-1")
    env = cli_env(server)

    _, out, _ = await run_cli("list", "--format", "jsonl", "--status", "failed", env=env)
    failed = [json.loads(line) for line in out.splitlines()]
    assert failed
    assert {job["status"] for job in failed} == {"FAILED"}

    _, out, _ = await run_cli("list", "--format", "jsonl", "--configuration-id", "cfg-1", env=env)
    assert len(out.splitlines()) == 5

    some = server.job_ids[:3]
    args = [arg for job_id in some for arg in ("--job-id", job_id)]
    _, out, _ = await run_cli("list", "--format", "jsonl", *args, env=env)
    assert [json.loads(line)["id"] for line in out.splitlines()] == some

    server.reset_stats()
    _, out, _ = await run_cli(
        "list", "--format", "jsonl", "--limit", "7", "--page-size", "5", env=env
    )
    assert len(out.splitlines()) == 7
    assert len(server.requests) == 2  # no page beyond the one holding the 7th job

    code, out, _ = await run_cli(
        "list", "--format", "jsonl", "--created-after", "2000-01-01", "--created-before",
        "2000-01-02T00:00Z", env=env,
    )  # fmt: skip
    assert (code, out) == (0, "")


@pytest.mark.parametrize("output_format", ["jsonl", "csv"])
async def test_list_streams_and_ctrl_c_exits_130(
    server: FakeClassifyServer, output_format: str
) -> None:
    """The first rows arrive while most pages are still unserved; SIGINT then ends it cleanly."""
    server.seed_jobs(200)
    server.latency = 0.2  # 20 pages of 10: four seconds to list them all
    child = await start("list", "--format", output_format, "--page-size", "10", env=cli_env(server))
    assert child.stdout is not None
    assert child.stderr is not None
    first = await asyncio.wait_for(child.stdout.readline(), 10)
    if output_format == "csv":
        assert first.startswith(b"id,status,")
        first = await asyncio.wait_for(child.stdout.readline(), 10)
    assert first.startswith(b'{"id"' if output_format == "jsonl" else b"cls-")
    assert len(server.requests) < 5  # of 20 pages
    child.send_signal(signal.SIGINT)
    code = await asyncio.wait_for(child.wait(), 10)
    stderr = (await child.stderr.read()).decode()
    assert code == 130
    assert stderr == "aio-classify: interrupted\n"


async def test_list_memory_stays_flat(server: FakeClassifyServer) -> None:
    """A long listing through a pipe: the child's peak memory does not grow with its length."""
    server.seed_jobs(6000)
    env = cli_env(server)
    probe = (
        "import resource, runpy, sys; sys.argv = ['aio-classify'] + sys.argv[1:];"
        "code = 0\ntry: runpy.run_module('aio_classify', run_name='__main__')\n"
        "except SystemExit as exc: code = exc.code\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
        "sys.exit(code)"
    )

    async def peak_kib(limit: int) -> int:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", probe, "list", "--format", "jsonl", "--page-size", "100",
            "--limit", str(limit), cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, stderr = await child.communicate()
        assert child.returncode == 0, stderr
        return int(stderr.decode().split()[-1])

    small, large = await peak_kib(200), await peak_kib(6000)
    assert large < small + 8 * 1024, (small, large)  # 30x the jobs, under 8 MiB more


# -- get and wait ---------------------------------------------------------------------------------


async def test_get_by_arguments_and_stdin(server: FakeClassifyServer) -> None:
    ids = server.seed_jobs(150)
    env = cli_env(server)
    server.reset_stats()
    code, out, stderr = await run_cli(
        "get", "-", "--format", "jsonl", env=env, input="\n".join(ids) + "\n\n"
    )
    assert code == 0
    assert_clean(stderr)
    assert [json.loads(line)["id"] for line in out.splitlines()] == ids
    assert len(server.requests) == 2  # batched: 100 ids per list call

    code, out, stderr = await run_cli("get", ids[3], "nope-1", ids[0], "--format", "csv", env=env)
    assert code == 1
    assert [row["id"] for row in csv.DictReader(io.StringIO(out))] == [ids[3], ids[0]]
    assert stderr == "aio-classify: not found: nope-1\n"


async def test_get_of_an_unknown_id_prints_no_table_header(server: FakeClassifyServer) -> None:
    code, out, stderr = await run_cli("get", "cls-nope", env=cli_env(server))
    assert (code, out, stderr) == (1, "", "aio-classify: not found: cls-nope\n")


def shell(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``script`` in bash (pipefail), ``aio-classify`` being this checkout's."""
    return bash(script.replace("aio-classify", f"{sys.executable} -m aio_classify"), env, ROOT)


async def test_ids_cut_from_real_csv_output_are_found(server: FakeClassifyServer) -> None:
    """CSV lines end in CRLF: piped with their header into ``get -``, or cut and passed as
    arguments, every id is still found."""
    ids = server.seed_jobs(5)
    env = cli_env(server)
    listing = "aio-classify list --limit 3 --format csv --fields id"
    piped = await asyncio.to_thread(shell, f"{listing} | aio-classify get - --format ids", env)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == "".join(f"{job_id}\n" for job_id in ids[:3])
    cut = f"aio-classify get $({listing} | tail -n +2) --format ids"
    assert (await asyncio.to_thread(shell, cut, env)).stdout == piped.stdout
    xargs = f"{listing} | tail -n +2 | xargs aio-classify get --format ids"
    assert (await asyncio.to_thread(shell, xargs, env)).stdout == piped.stdout


async def test_format_ids_feeds_wait(server: FakeClassifyServer, tmp_path: Path) -> None:
    server.seed_jobs(20)
    pending = [server.add_job(status="PENDING")["id"] for _ in range(3)]
    env = cli_env(server)
    listed = await asyncio.to_thread(
        shell, f"aio-classify list --status PENDING --format ids > {tmp_path / 'ids'}", env
    )
    assert listed.returncode == 0, listed.stderr
    assert (tmp_path / "ids").read_bytes() == "".join(f"{i}\n" for i in pending[::-1]).encode()
    server.finish_later(pending, within=0.3)
    waiting = "aio-classify wait - --poll-interval 0.1 --format csv --fields id,status"
    script = f"{waiting} < {tmp_path / 'ids'}"
    done = await asyncio.to_thread(shell, script, env)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["id", "status"]
    assert sorted(rows[1:]) == sorted([job_id, "COMPLETED"] for job_id in pending)


async def test_an_inverted_date_range_is_a_usage_error(server: FakeClassifyServer) -> None:
    args = ("list", "--created-after", "2026-02-01", "--created-before", "2026-01-01")
    code, out, stderr = await run_cli(*args, env=cli_env(server))
    assert (code, out) == (2, "")
    assert stderr == (
        "aio-classify list: error: --created-after (2026-02-01T00:00:00+00:00) is later than "
        "--created-before (2026-01-01T00:00:00+00:00): no job can match\n"
    )
    assert server.requests == []


async def test_a_usage_error_of_list_parallel_names_the_command() -> None:
    env = unreachable_env()
    code, _, stderr = await run_cli("list", "--parallel", "4", env=env)
    assert code == 2
    assert stderr == (
        "aio-classify list: error: --parallel needs both --created-after and --created-before\n"
    )


async def test_wait_prints_plain_progress_lines_when_not_a_terminal(
    server: FakeClassifyServer,
) -> None:
    ids = [server.add_job(status="PENDING")["id"] for _ in range(40)]
    server.finish_later(ids, within=2.5, fail_ratio=0.2, seed=3)
    started = time.monotonic()
    code, out, stderr = await run_cli(
        "wait", *ids, "--format", "jsonl", "--poll-interval", "0.2", "--max-interval", "0.2",
        env=cli_env(server),
    )  # fmt: skip
    assert code == 0, stderr
    assert time.monotonic() - started < 15
    finished = [json.loads(line) for line in out.splitlines()]
    assert sorted(job["id"] for job in finished) == sorted(ids)
    assert {job["status"] for job in finished} <= {"COMPLETED", "FAILED"}
    lines = stderr.splitlines()
    pattern = re.compile(
        r"wait: (\d+)/40 finished \((\d+) done, (\d+) failed, (\d+) pending, "
        r"[\d.]+s, [\d.]+ jobs/s\)"
    )
    assert all(pattern.fullmatch(line) for line in lines), stderr
    assert "\r" not in stderr
    assert "\x1b" not in stderr
    assert len(lines) >= 3  # the first, at least one while waiting, the last
    first, last = pattern.fullmatch(lines[0]), pattern.fullmatch(lines[-1])
    assert first is not None
    assert last is not None
    assert first.group(1) == "0"
    done, failed = int(last.group(2)), int(last.group(3))
    assert (int(last.group(1)), last.group(4)) == (40, "0")
    assert done == sum(job["status"] == "COMPLETED" for job in finished)
    assert done + failed == 40


async def test_wait_prints_finished_jobs_in_any_format(server: FakeClassifyServer) -> None:
    ids = [server.add_job(status="PENDING")["id"] for _ in range(3)]
    server.finish_later(ids, within=0.5)
    code, out, _ = await run_cli(
        "wait", *ids, "--format", "json", "--poll-interval", "0.1", env=cli_env(server)
    )
    assert code == 0
    assert sorted(job["id"] for job in json.loads(out)) == sorted(ids)


async def test_wait_for_an_unknown_job_exits_1(server: FakeClassifyServer) -> None:
    code, _, stderr = await run_cli("wait", "nope-1", env=cli_env(server))
    assert code == 1
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1].startswith("aio-classify: error:")


# -- fake-server and demo -------------------------------------------------------------------------


async def test_fake_server_prints_url_and_key_serves_and_stops_on_ctrl_c() -> None:
    child = await start("fake-server", "--port", "0", "--jobs", "25", env=cli_env())
    assert child.stdout is not None
    assert child.stderr is not None
    url = (await asyncio.wait_for(child.stdout.readline(), 15)).decode().strip()
    key = (await asyncio.wait_for(child.stdout.readline(), 5)).decode().strip()
    assert url.startswith("http://127.0.0.1:")
    env = cli_env(LLAMA_CLOUD_BASE_URL=url, LLAMA_CLOUD_API_KEY=key)
    code, out, _ = await run_cli("list", "--format", "jsonl", env=env)
    assert code == 0
    assert len(out.splitlines()) == 25
    child.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(child.wait(), 10) == 0
    assert_clean((await child.stderr.read()).decode())


async def test_fake_server_on_a_port_in_use_suggests_port_0() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        child = await start("fake-server", "--port", port, env=cli_env())
        _, stderr_bytes = await asyncio.wait_for(child.communicate(), 30)
    stderr = stderr_bytes.decode()
    assert child.returncode == 1
    assert stderr == (
        f"aio-classify: error: port {port} on 127.0.0.1 is already in use (another fake "
        "server?): stop what serves it, or pass --port 0 for a free port\n"
    )


def test_fake_server_on_a_terminal_labels_its_url_and_key() -> None:
    controller, terminal = pty.openpty()
    command = [sys.executable, "-m", "aio_classify", "fake-server", "--port", "0"]
    with subprocess.Popen(command, stdout=terminal, env=cli_env(), cwd=ROOT) as child:
        os.close(terminal)
        with os.fdopen(controller, "rb", buffering=0) as screen:
            text = b""
            while b"Ctrl-C" not in text:
                text += screen.read(1024)
            child.send_signal(signal.SIGINT)
            child.wait(timeout=10)  # before the terminal closes: its last flush would fail
    lines = text.decode().replace("\r\n", "\n").splitlines()
    url = lines[0].removeprefix("URL      ")
    assert url.startswith("http://127.0.0.1:")
    assert lines[1:] == [
        "API key  test-key",
        "In another terminal:",
        f"  export LLAMA_CLOUD_BASE_URL={url} LLAMA_CLOUD_API_KEY=test-key",
        "Serving until Ctrl-C.",
    ]
    assert child.returncode == 0


async def test_demo_runs_end_to_end_in_well_under_a_minute() -> None:
    started = time.monotonic()
    code, out, stderr = await run_cli("demo", env=cli_env(), seconds=60)
    seconds = time.monotonic() - started
    assert code == 0, stderr
    assert_clean(stderr)
    assert seconds < 30
    assert "3,000 jobs in 30 pages" in out
    assert re.search(r"new jobs by status +COMPLETED \d+", out)
    assert re.search(r"requests made +\d+", out)
    assert re.search(r"polling 1->5 s +\d+ requests, each job seen \d+\.\d\d s after", out)
    assert re.search(r"events=receiver +\d+ requests, each job seen \d+\.\d\d s after", out)
    assert stderr.splitlines()[-1].startswith("wait: 300/300 finished")
    # Nothing wraps on an 80-column terminal, the table included; "Next" is the README's own step.
    assert [line for line in out.splitlines() if len(line) > 79] == []
    table = out.split("the 5 newest COMPLETED jobs:\n")[1].splitlines()[:6]
    assert table[0].split() == ["id", "type", "confidence"]
    assert all(re.fullmatch(r" {12}cls-\w+  \S.* +\d\.\d\d", row) for row in table[1:]), table
    suggested = re.search(r"^  (aio-classify fake-server .*)$", out, re.M)
    assert suggested is not None
    assert suggested[1] in (ROOT / "README.md").read_text(encoding="utf-8")


# -- daily use: whole ids, full pages, chosen columns, create, exit status, retries shown ----------


@pytest.mark.parametrize("columns", ["80", "40", "20"])
async def test_table_ids_are_never_cut_whatever_the_width(
    server: FakeClassifyServer, columns: str
) -> None:
    ids = server.seed_jobs(12)
    code, table, _ = await run_cli("list", env=cli_env(server, COLUMNS=columns))
    assert code == 0
    header, *rows = table.splitlines()
    assert [row.split()[0] for row in rows] == ids  # each one can be pasted into get or wait
    assert all(len(line) <= max(int(columns), len(ids[0])) for line in table.splitlines())
    assert header.split()[:2] == (["id", "status"] if columns != "20" else ["id"])


async def test_list_asks_for_full_pages_of_100(server: FakeClassifyServer) -> None:
    server.seed_jobs(250)
    env = cli_env(server)
    code, out, _ = await run_cli("list", "--format", "jsonl", env=env)
    assert code == 0
    assert len(out.splitlines()) == 250
    assert [dict(call.query)["page_size"] for call in list_calls(server)] == ["100"] * 3
    server.reset_stats()
    await run_cli("list", "--format", "jsonl", "--limit", "5", env=env)
    assert [dict(call.query)["page_size"] for call in list_calls(server)] == ["5"]


async def test_fields_choose_the_columns_of_csv_and_table(server: FakeClassifyServer) -> None:
    ids = server.seed_jobs(6, statuses="FAILED")
    env = cli_env(server)
    code, out, _ = await run_cli("list", "--format", "csv", "--fields", "id,status", env=env)
    assert code == 0
    assert out.splitlines() == ["id,status", *(f"{job_id},FAILED" for job_id in ids)]
    code, out, _ = await run_cli("get", ids[0], "--fields", "status,error_message,id", env=env)
    header, row = out.splitlines()
    assert header.split() == ["status", "error_message", "id"]
    assert row.startswith("FAILED")
    assert row.endswith(ids[0])
    assert server.job(ids[0])["error_message"][:20] in row  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("list", "--fields", "id,colour"), "unknown field 'colour'; choose from id,status,"),
        (("list", "--fields", ","), "no field given"),
        (("list", "--format", "jsonl", "--fields", "id"), "--fields applies to the table and csv"),
    ],
)
def test_bad_fields_are_usage_errors(args: tuple[str, ...], message: str) -> None:
    env = cli_env(LLAMA_CLOUD_API_KEY="k", LLAMA_CLOUD_BASE_URL="https://example.invalid")
    code, stdout, stderr = call_main(args, env, "")
    assert (code, stdout) == (ExitCode.USAGE, "")
    assert message in stderr
    assert len(stderr.splitlines()) == 1


INVOICE_RULE = "invoice=Has an invoice number and a total amount due"


async def test_create_from_arguments_and_stdin_prints_the_new_jobs(
    server: FakeClassifyServer,
) -> None:
    env = cli_env(server)
    code, out, stderr = await run_cli(
        "create", "dfl-invoice-1.pdf", "-", "--rule", INVOICE_RULE, "--rule",
        "receipt=Proof of a payment, with its date", "--format", "jsonl", env=env,
        input="dfl-receipt-2.pdf\n\ndfl-memo-3.pdf\n",
    )  # fmt: skip
    assert code == 0, stderr
    assert_clean(stderr)
    jobs = [json.loads(line) for line in out.splitlines()]
    assert [job["file_input"] for job in jobs] == [
        "dfl-invoice-1.pdf",
        "dfl-receipt-2.pdf",
        "dfl-memo-3.pdf",
    ]
    assert sorted(job["id"] for job in jobs) == sorted(server.job_ids)
    assert {job["status"] for job in jobs} == {"PENDING"}
    rules = server.job(jobs[0]["id"])["configuration"]["rules"]  # type: ignore[index]
    assert [rule["type"] for rule in rules] == ["invoice", "receipt"]
    assert rules[0]["description"] == "Has an invoice number and a total amount due"


async def test_create_with_a_rules_file_or_a_saved_configuration(
    server: FakeClassifyServer, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"type": "contract", "description": "Signed by two parties"}]))
    env = cli_env(server)
    code, out, _ = await run_cli(
        "create", "dfl-a.pdf", "--rules-file", str(rules), "--format", "csv", "--fields",
        "id,status", env=env,
    )  # fmt: skip
    assert code == 0
    ((job_id, status),) = [row.split(",") for row in out.splitlines()[1:]]
    assert status == "PENDING"
    assert server.job(job_id)["configuration"]["rules"][0]["type"] == "contract"  # type: ignore[index]
    code, out, _ = await run_cli(
        "create", "dfl-b.pdf", "--configuration-id", "cfg-7", "--format", "json", env=env
    )
    assert code == 0
    (job,) = json.loads(out)
    assert job["configuration_id"] == "cfg-7"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "dfl-a.pdf"), "give the rules: --rule TYPE=DESCRIPTION, --rules-file or"),
        (("create", "dfl-a.pdf", "--rule", "invoice"), "expected TYPE=DESCRIPTION"),
        (("create", "dfl-a.pdf", "--rule", "invoice=short"), "rules[0].description must be"),
        (("create", "dfl-a.pdf", "--rules-file", "/nonexistent.json"), "cannot read the rules"),
        (("create", "", "--rule", INVOICE_RULE), "no file ids given"),
    ],
)
async def test_create_refuses_bad_input_before_any_request(
    server: FakeClassifyServer, args: tuple[str, ...], message: str
) -> None:
    code, stdout, stderr = await run_cli(*args, env=cli_env(server), input="\n")
    assert (code, stdout) == (ExitCode.USAGE, "")
    assert message in stderr
    assert len(stderr.splitlines()) == 1
    assert server.requests == []


async def test_a_failed_create_still_prints_the_jobs_it_made_and_exits_1(
    server: FakeClassifyServer,
) -> None:
    server.fail_next(422, method="POST", body={"detail": "file_input: not a file id"})
    code, out, stderr = await run_cli(
        "create", "dfl-1.pdf", "dfl-2.pdf", "--rule", INVOICE_RULE, "--format", "json",
        "--concurrency", "1", env=cli_env(server),
    )  # fmt: skip
    assert code == ExitCode.FAILED
    assert json.loads(out) == []  # the first one failed; nothing was started after it
    assert "422" in stderr
    assert server.job_ids == []


async def test_wait_exit_status_says_whether_any_job_failed(server: FakeClassifyServer) -> None:
    done = [server.add_job(status="COMPLETED")["id"] for _ in range(2)]
    failed = server.add_job(status="FAILED")["id"]
    cancelled = server.add_job(status="CANCELLED")["id"]
    env = cli_env(server)
    for ids, expected in (
        (done, ExitCode.OK),
        ([*done, failed], ExitCode.JOBS_FAILED),
        ([cancelled], ExitCode.JOBS_FAILED),
    ):
        code, _, stderr = await run_cli("wait", *ids, "--exit-status", env=env)
        assert code == expected, stderr
    code, _, _ = await run_cli("wait", *done, failed, env=env)
    assert code == ExitCode.OK  # without --exit-status, a failed job is a result, not an error


async def test_retries_are_shown_on_stderr_as_they_happen(server: FakeClassifyServer) -> None:
    server.seed_jobs(3)
    server.fail_next(503, count=2, retry_after=0, body={"detail": "busy\x1b[2J\nreally"})
    code, out, stderr = await run_cli("list", "--format", "jsonl", env=cli_env(server))
    assert code == 0
    assert len(out.splitlines()) == 3
    lines = stderr.splitlines()
    assert [line.split(" failed")[0] for line in lines] == [
        "aio-classify: attempt 1",
        "aio-classify: attempt 2",
    ]
    assert all("retrying in 0.00s" in line and "\x1b" not in line for line in lines)


@pytest.mark.parametrize(
    "args",
    [
        ("wait", "-", "--format", "json", "--exit-status"),
        ("get", "-", "--format", "json"),
        ("create", "-", "--rule", INVOICE_RULE, "--format", "json"),
    ],
)
async def test_nothing_on_stdin_is_nothing_to_do(
    server: FakeClassifyServer, args: tuple[str, ...]
) -> None:
    """The end of a pipeline whose first command found nothing: no request, success."""
    code, out, stderr = await run_cli(*args, env=cli_env(server), input="\n")
    assert code == ExitCode.OK, stderr
    assert json.loads(out) == []
    assert server.requests == []


async def test_throttling_is_shown_on_stderr_with_the_retries_it_causes(
    server: FakeClassifyServer,
) -> None:
    server.seed_jobs(40)
    server.set_rate_limit("list", 2, burst=1, hint="ms")
    code, out, stderr = await run_cli(
        "list", "--format", "jsonl", "--page-size", "10", env=cli_env(server)
    )
    assert code == 0
    assert len(out.splitlines()) == 40
    assert sum(throttled for _, throttled in server.rate_limit_log["list"]) >= 1
    lines = stderr.splitlines()
    assert lines[0].startswith("aio-classify: 'list' calls throttled by the server (429)")
    retry = re.compile(
        r"aio-classify: attempt \d+ failed \(GET /api/v2/classify answered 429: .*\); "
        r"retrying in [\d.]+s"
    )  # one notice per retry, as for any other retried error
    assert all(
        line.startswith("aio-classify: 'list' calls ") or retry.fullmatch(line) for line in lines
    )


# -- list --parallel: the range as windows (scan_jobs) ---------------------------------------------


async def test_list_parallel_scans_the_range_once_each(server: FakeClassifyServer) -> None:
    server.seed_jobs(250, span=3600.0, before=1_767_225_600.0)  # the hour before 2026-01-01
    env = cli_env(server)
    bounds = ("--created-after", "2025-12-31T23:00:00Z", "--created-before", "2026-01-01T00:00Z")
    code, out, err = await run_cli(
        "list", "--format", "jsonl", *bounds, "--parallel", "4", "--page-size", "20", env=env
    )
    assert code == ExitCode.OK, err
    ids = [json.loads(line)["id"] for line in out.splitlines()]
    assert len(ids) == len(set(ids)) == 250
    after = {v for r in server.requests for k, v in r.query if k == "created_at_on_or_after"}
    assert len(after) == 4  # four windows

    code, out, _ = await run_cli(
        "list", "--format", "jsonl", *bounds, "--parallel", "4", "--limit", "30", env=env
    )
    assert (code, len(out.splitlines())) == (ExitCode.OK, 30)


@pytest.mark.parametrize(
    "args",
    [
        ("--parallel", "4"),
        ("--parallel", "4", "--created-after", "2026-01-01"),
        ("--parallel", "4", "--created-after", "2026-01-01", "--created-before", "2026-01-02",
         "--job-id", "a"),
        ("--parallel", "0", "--created-after", "2026-01-01", "--created-before", "2026-01-02"),
    ],
)  # fmt: skip
async def test_list_parallel_usage_errors(args: tuple[str, ...]) -> None:
    code, out, err = await run_cli("list", *args, env=cli_env(None, LLAMA_CLOUD_API_KEY="k"))
    assert (code, out) == (ExitCode.USAGE, "")
    assert "--parallel" in err and len(err.splitlines()) == 1


# -- hostile arguments: one line, never a traceback ---------------------------------------------


@pytest.mark.parametrize("port", ["70000", "-5", "65536", "10" * 30, "eighty"])
def test_a_port_out_of_range_is_a_usage_error(port: str) -> None:
    code, _, stderr = call_main(("fake-server", "--port", port), cli_env(), "")
    assert code == 2
    assert_clean(stderr)
    assert "port" in stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("content", "wrap"),
    [
        ("[" * 100_000, ""),  # deeper than Python's parser goes
        ('{"rules": ' + "[" * 5_000, "]" * 5_000 + "}"),
        ('{"rules": [], "parsing_configuration": ' + '{"a": ' * 5_000, "1" + "}" * 5_001),
    ],
    ids=["bare", "rules", "parsing_configuration"],
)
def test_create_with_a_rules_file_nested_very_deep_is_one_line(
    tmp_path: Path, content: str, wrap: str
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(content + wrap)
    env = cli_env(LLAMA_CLOUD_API_KEY="k" * 20, LLAMA_CLOUD_BASE_URL="http://127.0.0.1:9")
    code, _, stderr = call_main(("create", "file-1", "--rules-file", str(rules)), env, "")
    assert code == 2, stderr
    assert_clean(stderr)
    assert len(stderr.strip().splitlines()) == 1, stderr


async def test_not_found_lines_escape_control_characters(server: FakeClassifyServer) -> None:
    hostile = ["cls-\x1b[2J\x1b]0;owned\x07", "nul-\x00-del-\x7f", "csi-\x9b31m", "x" * 5_000]
    code, _, stderr = await run_cli("get", *hostile, env=cli_env(server))
    assert code == 1
    assert_clean(stderr)
    lines = stderr.splitlines()
    assert len(lines) == len(hostile)
    for line in lines:
        assert line.startswith("aio-classify: not found: ")
        assert all(char.isprintable() for char in line), repr(line)
        assert len(line) < 300
    assert "\\x1b[2J" in lines[0]


@pytest.mark.parametrize("count", ["257", "100000", "10" * 30])
def test_list_parallel_has_a_ceiling(count: str) -> None:
    args = ("list", "--parallel", count, "--created-after", "2026-01-01")
    code, _, stderr = call_main(args, cli_env(LLAMA_CLOUD_API_KEY="k" * 20), "")
    assert code == 2
    assert_clean(stderr)
    assert "256" in stderr.strip().splitlines()[-1]
