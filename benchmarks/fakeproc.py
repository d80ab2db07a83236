"""The fake server in its own process, its ``/_fake/`` admin endpoints, and the measure of a
wait over fresh jobs that the polling benchmarks share, for benchmarks.

A separate process keeps the server's CPU off the client's event loop, so the figures measure
the client, not the two sharing one core.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def fake_server(
    *options: str, latency: float = 0.0, api_key: str = "bench-key"
) -> Iterator[tuple[str, str]]:
    """Start ``python -m aio_classify.testing [options]`` and yield its ``(url, api_key)``."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "aio_classify.testing", "--port", "0"]
    command += ["--latency", str(latency), "--api-key", api_key, *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        key = process.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the fake server did not start (printed {url!r})")
        yield url, key
    finally:
        process.terminate()
        process.wait(timeout=10)


class Admin:
    """The fake server's admin endpoints (never counted in its request statistics)."""

    def __init__(self, session: aiohttp.ClientSession, url: str, api_key: str) -> None:
        self._session = session
        self._url = url
        self._headers = {"Authorization": f"Bearer {api_key}"}

    async def _call(self, method: str, name: str, body: dict[str, Any] | None = None) -> Any:
        async with self._session.request(
            method, f"{self._url}/_fake/{name}", json=body, headers=self._headers
        ) as response:
            response.raise_for_status()
            return await response.json()

    async def seed(self, count: int, statuses: str) -> list[str]:
        ids: list[str] = (await self._call("POST", "seed", {"count": count, "statuses": statuses}))[
            "ids"
        ]
        return ids

    async def finish_later(self, job_ids: list[str], within: float, seed: int) -> dict[str, float]:
        body = {"job_ids": job_ids, "within": within, "seed": seed}
        due: dict[str, float] = (await self._call("POST", "finish-later", body))["due"]
        return due

    async def terminal_times(self) -> dict[str, float]:
        times: dict[str, float] = await self._call("GET", "terminal-times")
        return times

    async def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = await self._call("GET", "stats")
        return stats

    async def reset_stats(self) -> None:
        await self._call("POST", "reset-stats")

    async def rate_limit(self, call: str, rate: float, *, burst: float, hint: str) -> None:
        await self._call(
            "POST", "rate-limit", {"call": call, "rate": rate, "burst": burst, "hint": hint}
        )

    async def rate_limit_report(self) -> dict[str, Any]:
        """Limits, answer counts and the per-call log of ``(time, throttled)``."""
        report: dict[str, Any] = await self._call("GET", "rate-limit")
        return report

    async def webhook_faults(self, **faults: float) -> None:
        """Shares of webhook deliveries dropped, duplicated, delayed or reordered (and seed)."""
        await self._call("POST", "webhook-faults", faults)

    async def webhook_deliveries(self) -> dict[str, Any]:
        """``{"counts": {outcome: n}, "dropped_job_ids": [...]}`` of the deliveries so far."""
        deliveries: dict[str, Any] = await self._call("GET", "webhook-deliveries")
        return deliveries


Waiter = Callable[[list[str]], Awaitable[dict[str, float]]]
"""Waits for the jobs of the given ids; returns when (``time.time()``) it saw each one end."""


async def measure_wait(
    admin: Admin, waiter: Waiter, jobs: int, within: float
) -> tuple[int, float, list[float]]:
    """(requests, CPU seconds, delays from job end to seen) of ``waiter`` waiting for ``jobs``
    fresh jobs that end at random within ``within`` seconds (the same schedule every time)."""
    ids = await admin.seed(jobs, "PENDING")
    await admin.reset_stats()
    await admin.finish_later(ids, within=within, seed=1)
    cpu = time.process_time()
    seen = await waiter(ids)
    cpu = time.process_time() - cpu
    requests = (await admin.stats())["requests"]
    finished = await admin.terminal_times()
    return requests, cpu, [seen[job_id] - finished[job_id] for job_id in ids]
