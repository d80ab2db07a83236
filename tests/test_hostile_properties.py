"""Properties over arbitrary input: any JSON a server may send becomes records or a
``ClassifyError`` (never another exception), and any id or token a caller or server supplies
travels as exactly one percent-encoded path segment or query value."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aio_classify import ClassifyClient, ClassifyError
from aio_classify._core.models import ClassifyJob, Page
from aio_classify._decode.conversion import structure_job, structure_page
from aio_classify._jobs.pagination import JobPager

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
job_keys = st.sampled_from(
    ["id", "status", "result", "configuration", "created_at", "usage", "error_message", "x"]
)
#: Job-shaped objects: the known keys with arbitrary values reach deeper than random dicts.
job_like = st.dictionaries(job_keys, json_values, max_size=8) | json_values
page_like = (
    st.fixed_dictionaries(
        {"items": st.lists(job_like, max_size=3) | json_values},
        optional={"next_page_token": json_values, "total_size": json_values},
    )
    | json_values
)


#: No per-example deadline: a loaded CI machine must not turn a slow example into a failure.
relaxed = settings(deadline=None)


@relaxed
@given(job_like)
def test_any_json_is_a_job_or_a_classify_error(data: Any) -> None:
    try:
        job = structure_job(data)
    except ClassifyError:
        return
    assert isinstance(job, ClassifyJob) and isinstance(job.id, str)


@relaxed
@given(page_like)
def test_any_json_is_a_page_or_a_classify_error(data: Any) -> None:
    try:
        page = structure_page(data)
    except ClassifyError:
        return
    assert isinstance(page, Page)
    assert page.next_page_token is None or isinstance(page.next_page_token, str)


@relaxed
@given(st.lists(page_like, min_size=1, max_size=6))
def test_any_sequence_of_json_pages_is_paged_or_a_classify_error(pages: list[Any]) -> None:
    answers = iter(pages)

    async def fetch_page(_: str | None) -> Page:
        return structure_page(next(answers, {"items": []}))

    async def read_all() -> list[ClassifyJob]:
        return [job async for job in JobPager(fetch_page, page_token=None, limit=None)]

    try:
        jobs = asyncio.run(read_all())
    except ClassifyError:
        return
    assert all(isinstance(job, ClassifyJob) for job in jobs)


class Echo:
    """A loopback server in a thread, recording the raw request target of each request."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self.url = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    async def _start(self) -> None:
        async def handle(request: web.Request) -> web.Response:
            self.targets.append(request.raw_path)
            return web.json_response(
                {"id": "x", "status": "RUNNING"} if "?" not in request.raw_path else {"items": []}
            )

        # A low-level server: no router, so no path (not even one with "%0A") is refused.
        self._runner = web.ServerRunner(web.Server(handle), access_log=None, max_line_size=2**16)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    def __enter__(self) -> Echo:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def echo() -> Iterator[Echo]:
    with Echo() as server:
        yield server


#: Ids and tokens as a caller or a server may hand them over: any text that is valid Unicode.
texts = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=60)
fuzz = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@fuzz
@given(texts)
def test_any_id_is_one_path_segment(echo: Echo, job_id: str) -> None:
    async def look_up() -> None:
        async with ClassifyClient("k", base_url=echo.url, max_retries=0) as client:
            await client.get_job(job_id)

    asyncio.run(look_up())
    path, _, query = echo.targets[-1].partition("?")
    prefix, _, segment = path.rpartition("/")
    assert prefix == "/api/v2/classify"
    assert query == ""
    assert unquote(segment, errors="strict") == job_id


@fuzz
@given(texts)
def test_any_token_is_one_query_value(echo: Echo, token: str) -> None:
    async def list_from() -> None:
        async with ClassifyClient("k", base_url=echo.url, max_retries=0) as client:
            await client.list_jobs(page_token=token).first_page()

    asyncio.run(list_from())
    path, _, query = echo.targets[-1].partition("?")
    assert path == "/api/v2/classify"
    assert parse_qsl(query, keep_blank_values=True, errors="strict") == [("page_token", token)]
