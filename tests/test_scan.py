"""``scan_jobs`` against the fake server: every job of the range exactly once (boundaries
included), one limit on requests in flight, clean cancellation, a failing window cancels the
others, arguments checked before any request."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from aio_classify import BadRequestError, ClassifyClient, ClassifyJob
from aio_classify._jobs.scan import scan, split_range
from aio_classify.testing import FakeClassifyServer

from helpers import serve

LIST = "/api/v2/classify"
START = datetime(2026, 3, 1, tzinfo=UTC)
END = START + timedelta(seconds=8)
US = timedelta(microseconds=1)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seed_range(server: FakeClassifyServer) -> set[str]:
    """Jobs on and around every boundary of 8 one-second windows, plus a random crowd; returns
    the ids created inside [START, END]."""
    inside = set(server.seed_jobs(300, span=8.0, before=END.timestamp()))
    for second in range(9):
        for offset in (-US, timedelta(0), US):
            moment = START + timedelta(seconds=second) + offset
            job = server.add_job(created_at=iso(moment))
            if START <= moment <= END:
                inside.add(job["id"])
    return inside


async def scanned(pager: AsyncGenerator[ClassifyJob, None]) -> list[str]:
    async with aclosing(pager) as jobs:
        return [job.id async for job in jobs]


def client_tasks() -> list[asyncio.Task[object]]:
    """Tasks of the client still alive (the fake's handler tasks share the loop: not counted)."""
    return [
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task()
        and "/aio_classify/" in (code := task.get_coro().cr_code.co_filename)  # type: ignore[union-attr]
        and "/testing/" not in code
    ]


def list_queries(server: FakeClassifyServer) -> list[dict[str, str]]:
    return [dict(r.query) for r in server.requests if r.method == "GET" and r.path == LIST]


@pytest.mark.parametrize(("partitions", "concurrency"), [(8, 8), (8, 3), (5, 2), (1, 1), (64, 8)])
async def test_every_job_in_the_range_exactly_once_boundaries_included(
    server: FakeClassifyServer, client: ClassifyClient, partitions: int, concurrency: int
) -> None:
    inside = seed_range(server)
    ids = await scanned(
        client.scan_jobs(START, END, partitions=partitions, concurrency=concurrency, page_size=7)
    )
    assert Counter(ids).most_common(1)[0][1] == 1
    assert set(ids) == inside
    listed = [
        job.id
        async for job in client.list_jobs(created_at_on_or_after=START, created_at_on_or_before=END)
    ]
    assert set(listed) == inside


async def test_windows_are_adjacent_and_ask_for_a_microsecond_short_of_the_next(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    await scanned(client.scan_jobs(START, END, partitions=4, status="COMPLETED"))
    firsts = [q for q in list_queries(server) if "page_token" not in q]
    bounds = sorted(
        (
            datetime.fromisoformat(q["created_at_on_or_after"]),
            datetime.fromisoformat(q["created_at_on_or_before"]),
        )
        for q in firsts
    )
    quarter = (END - START) / 4
    assert bounds == [
        (START + quarter * i, START + quarter * (i + 1) - (US if i < 3 else timedelta(0)))
        for i in range(4)
    ]
    assert all(q["status"] == "COMPLETED" and q["page_size"] == "100" for q in firsts)


#: Zones with daylight-saving changes: an hour at 2 a.m., an hour at 1 a.m., half an hour
#: (Lord Howe), an hour at midnight (Santiago).
DST_ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago"]
#: Instants (UTC) of one spring and one autumn change in each zone, 2026.
TRANSITIONS = [
    datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York, spring forward
    datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York, fall back
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # London
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),  # Lord Howe
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    datetime(2026, 4, 5, 3, tzinfo=UTC),  # Santiago
    datetime(2026, 9, 6, 4, tzinfo=UTC),
]


@given(
    zone=st.sampled_from(DST_ZONES),
    transition=st.sampled_from(TRANSITIONS),
    before=st.integers(min_value=0, max_value=4 * 3600 * 10**6),
    after=st.integers(min_value=0, max_value=4 * 3600 * 10**6),
    partitions=st.integers(min_value=1, max_value=97),
)
def test_windows_tile_the_range_in_absolute_time_across_dst_changes(
    zone: str, transition: datetime, before: int, after: int, partitions: int
) -> None:
    start = (transition - before * US).astimezone(ZoneInfo(zone))
    end = (transition + after * US).astimezone(ZoneInfo(zone))
    windows = list(split_range(start, end, partitions))
    # In UTC: Python never calls an ambiguous local time (fold=1) equal to another zone's.
    assert windows[0].start == start.astimezone(UTC)
    assert windows[-1].end == end.astimezone(UTC) and windows[-1].closed
    for earlier, later in pairwise(windows):
        assert earlier.end == later.start and not earlier.closed
        assert earlier.start < earlier.end
    whole = sum(((w.end - w.start) for w in windows), timedelta(0))
    assert whole == end.astimezone(UTC) - start.astimezone(UTC)


@pytest.mark.parametrize("transition", TRANSITIONS[:2], ids=["spring", "autumn"])
async def test_a_scan_across_a_dst_change_yields_every_job_once(
    server: FakeClassifyServer, client: ClassifyClient, transition: datetime
) -> None:
    """One job a minute for five hours around New York's change, bounds given in New York time."""
    first = transition - timedelta(hours=2, minutes=30)
    created = [first + timedelta(minutes=minute) for minute in range(301)]
    ids = {server.add_job(created_at=iso(moment))["id"] for moment in created}
    new_york = ZoneInfo("America/New_York")
    found = await scanned(
        client.scan_jobs(
            created[0].astimezone(new_york),
            created[-1].astimezone(new_york),
            partitions=7,
            concurrency=3,
        )
    )
    assert len(found) == 301
    assert set(found) == ids


async def test_a_window_is_opened_only_when_its_turn_comes(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    """However many partitions, a window's pager is made only when a fetch slot is free for it."""
    inside = seed_range(server)
    opened: list[datetime] = []
    opened_by_first_page: list[int] = []

    def list_window(first: datetime, last: datetime) -> Any:
        opened.append(first)
        pager = client.list_jobs(created_at_on_or_after=first, created_at_on_or_before=last)
        pages = pager.pages

        async def noted() -> AsyncGenerator[Any, None]:
            async with aclosing(pages()) as inner:
                async for page in inner:
                    opened_by_first_page.append(len(opened))
                    yield page

        pager.pages = noted  # type: ignore[method-assign]
        return pager

    found = await scanned(scan(list_window, split_range(START, END, 10_000), concurrency=4))
    assert set(found) == inside
    assert len(opened) == 10_000
    assert opened_by_first_page[0] <= 5  # the four in flight, and the reader's next


async def test_many_partitions_cost_no_memory_before_the_first_page(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    server.add_job(created_at=iso(START))
    tracemalloc.start()
    try:
        pager = client.scan_jobs(START, START + timedelta(days=365), partitions=200_000)
        async with aclosing(pager) as jobs:
            await anext(jobs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, peak  # it was 259 MB: every window's pager built up front


def test_split_range_covers_every_instant_once_even_when_tiny() -> None:
    assert len(list(split_range(START, START, 8))) == 1
    three = list(split_range(START, START + 3 * US, 8))
    assert [(w.start, w.last) for w in three] == [
        (START, START),
        (START + US, START + US),
        (START + 2 * US, START + 3 * US),
    ]


async def test_no_more_than_concurrency_requests_in_flight(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    seed_range(server)
    server.latency = 0.02
    ids = await scanned(client.scan_jobs(START, END, partitions=8, concurrency=3, page_size=20))
    assert len(ids) == len(set(ids)) > 300
    assert server.max_in_flight <= 3
    assert len({q["created_at_on_or_after"] for q in list_queries(server)}) == 8


@pytest.mark.parametrize(
    ("start", "end", "options", "error"),
    [
        (START, None, {}, "needs both"),
        (None, END, {}, "needs both"),
        (END, START, {}, "earlier than"),
        ("yesterday", END, {}, "ISO 8601"),
        (START, END, {"partitions": 0}, "partitions"),
        (START, END, {"concurrency": 0}, "concurrency"),
        (START, END, {"page_size": 101}, "page_size"),
        (START, END, {"status": "DONE"}, "status"),
    ],
)
async def test_arguments_are_checked_before_any_request(
    server: FakeClassifyServer,
    client: ClassifyClient,
    start: Any,
    end: Any,
    options: dict[str, Any],
    error: str,
) -> None:
    with pytest.raises(ValueError, match=error):
        client.scan_jobs(start, end, **options)
    with pytest.raises(TypeError, match="configuration_id"):
        client.scan_jobs(START, END, configuration_id=5)  # type: ignore[arg-type]
    assert server.requests == []


async def test_naive_bounds_are_utc(server: FakeClassifyServer, client: ClassifyClient) -> None:
    inside = seed_range(server)
    naive = await scanned(client.scan_jobs(START.replace(tzinfo=None), "2026-03-01T00:00:08"))
    assert set(naive) == inside


@pytest.fixture
async def one_quick_window() -> AsyncIterator[str]:
    """A tiny server: the window starting at START answers at once (3 jobs, or a 400 when the
    query says ``status=FAILED``); every other window hangs until the test ends. So when the
    first job arrives, or the error, the other windows are certainly in flight."""
    release = asyncio.Event()

    async def listing(request: web.Request) -> web.Response:
        if request.query["created_at_on_or_after"] != START.isoformat():
            await release.wait()
            return web.json_response({"items": [], "next_page_token": None})
        if request.query.get("status") == "FAILED":
            return web.json_response({"detail": "bad window"}, status=400)
        items = [{"id": f"j{n}", "status": "COMPLETED", "created_at": iso(START)} for n in range(3)]
        return web.json_response({"items": items, "next_page_token": None})

    app = web.Application()
    app.router.add_get(LIST, listing)
    try:
        async with serve(app) as url:
            yield url
    finally:
        release.set()


async def test_a_failing_window_raises_and_cancels_the_others(one_quick_window: str) -> None:
    async with ClassifyClient("k", base_url=one_quick_window) as client:
        with pytest.raises(BadRequestError, match="bad window"):
            await scanned(client.scan_jobs(START, END, status="FAILED"))
        assert client_tasks() == []


async def test_closing_the_scan_early_cancels_and_awaits_every_fetch(one_quick_window: str) -> None:
    async with ClassifyClient("k", base_url=one_quick_window) as client:
        async with aclosing(client.scan_jobs(START, END)) as jobs:
            async for _ in jobs:
                assert client_tasks()  # other windows, hanging
                break
        assert client_tasks() == []


async def test_cancelling_the_consumer_releases_everything(one_quick_window: str) -> None:
    async with ClassifyClient("k", base_url=one_quick_window) as client:
        first = asyncio.Event()

        async def consume() -> None:
            async for _ in client.scan_jobs(START, END):
                first.set()

        task = asyncio.create_task(consume())
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client_tasks() == []
