"""The migration guide's program, before (official SDK) and after (aio_classify): each runs as a
user would run it, in its own process against the same fake server setup, and prints exactly
the output the guide shows (``examples/migration/expected_output.txt``)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from aio_classify import ClassifyJob
from aio_classify.testing import FakeClassifyServer, Lifecycle

from helpers import API_KEY, ROOT, child_env

PROGRAMS = ROOT / "examples" / "migration"
EXPECTED = (PROGRAMS / "expected_output.txt").read_text(encoding="utf-8")


async def run_program(name: str, cwd: Path) -> str:
    """Seed 1 and a 25 % failure share make one of the four jobs fail, the same one each run."""
    lifecycle = Lifecycle(running_after=0.05, finish_after=0.1, fail_ratio=0.25)
    async with FakeClassifyServer(api_key=API_KEY, seed=1, lifecycle=lifecycle) as server:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-W",
            "error::ResourceWarning",
            str(PROGRAMS / name),
            cwd=cwd,
            env=child_env(server),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.parametrize("name", ["before_official_sdk.py", "after_aio_classify.py"])
async def test_both_programs_print_what_the_guide_shows(name: str, tmp_path: Path) -> None:
    assert await run_program(name, tmp_path) == EXPECTED
    lines = (tmp_path / "completed.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    jobs = [ClassifyJob.from_dict(json.loads(line)) for line in lines]  # either export reads
    assert {job.status for job in jobs} == {"COMPLETED"}
