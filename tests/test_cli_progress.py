"""The CLI's progress display, without a process: what a terminal would show."""

from __future__ import annotations

import io

from aio_classify.cli._progress import Progress

from helpers import TABLE_JOB as JOB


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


async def test_plain_progress_never_prints_the_same_counts_twice() -> None:
    out = io.StringIO()
    async with Progress(0, out, live=False, interval=10):
        pass  # nothing to wait for: one line, not a first and a last that say the same
    assert [line.split(" (")[0] for line in out.getvalue().splitlines()] == ["wait: 0/0 finished"]
    out = io.StringIO()
    async with Progress(2, out, live=False, interval=10) as progress:
        progress.record(JOB)
        progress.render()
        progress.record(JOB)
    counts = [line.split(" (")[0] for line in out.getvalue().splitlines()]
    assert counts == ["wait: 0/2 finished", "wait: 1/2 finished", "wait: 2/2 finished"]
