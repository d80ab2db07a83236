"""Memory bombs, each in a fresh process that measures its own peak RSS: a 150 MB body and a
150 KB gzip body that inflates to 150 MB must each grow the client by less than 100 MB (the
default ``max_response_bytes`` is 32 MiB, and nothing past it is buffered)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import asyncio, resource, sys, zlib
    from aiohttp import web
    from aio_classify import ClassifyClient, ResponseValidationError

    MB = 2**20
    SIZE_MB = 150
    HEAD, TAIL, PAD = b'{"id": "x", "status": "COMPLETED", "pad": "', b'"}', b"a" * MB

    def gzip_bomb():
        # Built a megabyte at a time: the test process never holds the inflated body.
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        parts = [packer.compress(HEAD)]
        parts += [packer.compress(PAD) for _ in range(SIZE_MB)]
        parts += [packer.compress(TAIL), packer.flush()]
        return b"".join(parts)

    async def plain(request):
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        try:
            await response.write(HEAD)
            for _ in range(SIZE_MB):
                await response.write(PAD)
            await response.write(TAIL)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up at its cap
        return response

    async def main(kind):
        body = gzip_bomb() if kind == "gzip" else None
        assert body is None or len(body) < 400 * 1024, len(body)

        async def bomb(request):
            headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
            return web.Response(body=body, headers=headers)

        app = web.Application()
        app.router.add_get("/api/v2/classify/{id}", bomb if kind == "gzip" else plain)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            async with ClassifyClient("k", base_url=f"http://{host}:{port}") as client:
                try:
                    await client.get_job("x")
                    outcome = "read whole"
                except ResponseValidationError:
                    outcome = "refused"
        finally:
            await runner.cleanup()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(outcome, (after - before) / 1024)  # ru_maxrss is in KiB on Linux

    asyncio.run(main(sys.argv[1]))
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss units differ outside Linux")
@pytest.mark.parametrize("kind", ["plain", "gzip"])
def test_a_memory_bomb_grows_the_client_by_less_than_100_mb(kind: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, kind], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    outcome, grown = result.stdout.split()
    assert outcome == "refused"
    assert float(grown) < 100, f"peak RSS grew by {grown} MB"
