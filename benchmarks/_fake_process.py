"""Run the fake server in its own process, so the benchmarked client has a core to itself."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp


@contextmanager
def fake_server(*args: str, api_key: str = "bench-key") -> Iterator[str]:
    """Start ``python -m aio_classify.testing`` on a free port; yield its base URL."""
    command = [sys.executable, "-m", "aio_classify.testing", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--api-key", api_key, *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the fake server did not start (printed {url!r})")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


async def admin(url: str, api_key: str, method: str, path: str, body: object = None) -> object:
    """Call one of the fake's ``/_fake/`` endpoints (stats, latency, seeding...)."""
    headers = {"Authorization": f"Bearer {api_key}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.request(method, f"{url}/_fake/{path}", json=body) as response,
    ):
        response.raise_for_status()
        return await response.json()
