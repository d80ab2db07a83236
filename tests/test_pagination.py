"""Listing and lookups against the real fake server over loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from aio_classify import (
    ClassifyClient,
    JobStatus,
    Page,
    ResponseValidationError,
    UnprocessableEntityError,
)
from aio_classify.testing import FakeClassifyServer

from helpers import API_KEY, LIST, list_calls


def list_requests(server: FakeClassifyServer) -> list[dict[str, list[str]]]:
    """The query of each list request the server saw, as name -> values."""
    queries = []
    for request in list_calls(server):
        query: dict[str, list[str]] = {}
        for name, value in request.query:
            query.setdefault(name, []).append(value)
        queries.append(query)
    return queries


async def test_ten_thousand_jobs_once_each_in_order_through_faults(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    expected = server.seed_jobs(10_000)
    seen: list[str] = []
    async for page in client.list_jobs(page_size=100).pages():
        seen.extend(job.id for job in page.items)
        pages_read = len(seen) // 100
        if pages_read == 20:
            server.fail_next(503, method="GET", path=LIST)
        elif pages_read == 40:
            server.fail_next(429, headers={"Retry-After": "1"}, method="GET", path=LIST)
        elif pages_read == 60:
            server.drop_next(2, method="GET", path=LIST)  # aiohttp itself resends once
    assert seen == expected
    assert len(set(seen)) == 10_000
    # 100 pages, plus the 503, the 429 and the two dropped connections.
    assert len(list_requests(server)) == 104


async def test_items_are_records_with_every_part(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    server.seed_jobs(5, statuses="COMPLETED")
    jobs = [job async for job in client.list_jobs()]
    assert len(jobs) == 5
    for job in jobs:
        assert job.status is JobStatus.COMPLETED and job.is_terminal
        assert job.created_at is not None and job.created_at.tzinfo is not None
        assert job.configuration is not None and job.configuration.rules
        assert job.result is not None and job.result.reasoning
        assert job.file_input == job.document_input_value is not None
    assert list_requests(server)[0] == {}


async def test_filters_reach_the_server_and_filter(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    failed = server.seed_jobs(30, statuses="FAILED", configuration_id="cfg-1")
    server.seed_jobs(30, statuses="COMPLETED")
    start = datetime(2020, 1, 1)  # naive: taken as UTC
    jobs = [
        job
        async for job in client.list_jobs(
            status="FAILED",
            configuration_id="cfg-1",
            created_at_on_or_after=start,
            created_at_on_or_before=datetime.now(UTC) + timedelta(days=1),
            project_id="5f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b",
            organization_id="01010101-0000-4000-8000-000000000001",
            page_size=7,
        )
    ]
    assert [job.id for job in jobs] == failed
    query = list_requests(server)[0]
    assert query["status"] == ["FAILED"]
    assert query["configuration_id"] == ["cfg-1"]
    assert query["created_at_on_or_after"] == ["2020-01-01T00:00:00+00:00"]
    assert query["project_id"] == ["5f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b"] and query[
        "organization_id"
    ] == ["01010101-0000-4000-8000-000000000001"]
    assert query["page_size"] == ["7"]
    assert len(list_requests(server)) == 5  # ceil(30 / 7)


async def test_job_ids_are_repeated_and_unknown_ids_absent(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(10)
    wanted = [ids[2], "cls-unknown", ids[7]]
    jobs = [job async for job in client.list_jobs(job_ids=wanted)]
    assert {job.id for job in jobs} == {ids[2], ids[7]}
    assert list_requests(server)[0]["job_ids"] == wanted


async def test_empty_job_ids_make_no_request(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    server.seed_jobs(3)
    pager = client.list_jobs(job_ids=[])
    assert [job async for job in pager] == []
    assert [page async for page in pager.pages()] == []
    assert (await pager.first_page()).items == ()
    assert server.requests == []


async def test_client_defaults_scope_every_call(server: FakeClassifyServer) -> None:
    server.seed_jobs(3, project_id="aaaaaaaa-0000-4000-8000-00000000000a")
    server.seed_jobs(2, project_id="bbbbbbbb-0000-4000-8000-00000000000b")
    async with ClassifyClient(
        API_KEY,
        base_url=server.url,
        project_id="aaaaaaaa-0000-4000-8000-00000000000a",
        organization_id="09090909-0000-4000-8000-000000000009",
    ) as client:
        assert len([job async for job in client.list_jobs()]) == 3
        assert (
            len(
                [
                    job
                    async for job in client.list_jobs(
                        project_id="bbbbbbbb-0000-4000-8000-00000000000b"
                    )
                ]
            )
            == 2
        )
    first, second = list_requests(server)
    assert first["project_id"] == ["aaaaaaaa-0000-4000-8000-00000000000a"] and first[
        "organization_id"
    ] == ["09090909-0000-4000-8000-000000000009"]
    assert second["project_id"] == ["bbbbbbbb-0000-4000-8000-00000000000b"]


async def test_limit_stops_at_the_page_holding_the_nth_job(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(500)
    assert [job.id async for job in client.list_jobs(page_size=100, limit=150)] == ids[:150]
    assert len(list_requests(server)) == 2
    server.reset_stats()
    assert [job.id async for job in client.list_jobs(page_size=100, limit=100)] == ids[:100]
    assert len(list_requests(server)) == 1
    server.reset_stats()
    pages = [page async for page in client.list_jobs(page_size=100, limit=101).pages()]
    assert len(pages) == 2 and len(list_requests(server)) == 2


async def test_pages_tokens_and_resume(server: FakeClassifyServer, client: ClassifyClient) -> None:
    ids = server.seed_jobs(25)
    first = await client.list_jobs(page_size=10).first_page()
    assert isinstance(first, Page)
    assert [job.id for job in first.items] == ids[:10]
    assert first.next_page_token and first.total_size == 25
    rest = [
        job.id async for job in client.list_jobs(page_size=10, page_token=first.next_page_token)
    ]
    assert rest == ids[10:]
    pages = [page async for page in client.list_jobs(page_size=10).pages()]
    assert [len(page.items) for page in pages] == [10, 10, 5]
    assert pages[-1].next_page_token is None


async def test_iterating_again_starts_again(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(12)
    pager = client.list_jobs(page_size=5)
    assert [job.id async for job in pager] == ids
    assert [job.id async for job in pager] == ids
    assert len(list_requests(server)) == 6


async def test_fetches_lazily_one_page_at_a_time(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    server.seed_jobs(30)
    pager = client.list_jobs(page_size=10)
    assert server.requests == []  # making the pager sends nothing
    async for _ in pager:
        break
    assert len(list_requests(server)) == 1


async def test_token_from_other_filters_is_refused(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    server.seed_jobs(30)
    page = await client.list_jobs(page_size=10).first_page()
    assert page.next_page_token
    with pytest.raises(UnprocessableEntityError):
        await client.list_jobs(status="FAILED", page_token=page.next_page_token).first_page()


async def test_break_releases_the_connection(server: FakeClassifyServer) -> None:
    server.seed_jobs(50)
    async with ClassifyClient(API_KEY, base_url=server.url, max_connections=1) as client:
        async for _ in client.list_jobs(page_size=10):
            break
        # With a single connection, this would wait forever if the listing still held it.
        job = await asyncio.wait_for(client.get_job(server.job_ids[0]), timeout=5)
        assert job.id == server.job_ids[0]


async def test_cancelling_the_iterating_task_releases_the_connection(
    server: FakeClassifyServer,
) -> None:
    server.seed_jobs(50)
    server.latency = 30.0
    async with ClassifyClient(API_KEY, base_url=server.url, max_connections=1) as client:

        async def consume() -> None:
            async for _ in client.list_jobs(page_size=10):
                pass

        task = asyncio.create_task(consume())
        while server.in_flight == 0:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        server.latency = 0.0
        job = await asyncio.wait_for(client.get_job(server.job_ids[0]), timeout=5)
        assert job.id == server.job_ids[0]


async def test_unknown_status_from_server_is_kept(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    server.add_job(id="cls-queued", status="QUEUED")
    (job,) = [job async for job in client.list_jobs()]
    assert job.status == "QUEUED" and job.is_terminal is False
    assert (await client.get_job("cls-queued")).status == "QUEUED"


async def test_malformed_body_raises_validation_error(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    server.seed_jobs(3)
    server.malformed_next(body=b'{"items": [')
    with pytest.raises(ResponseValidationError, match=r'\{"items": \['):
        await client.list_jobs().first_page()
    server.add_job(id="cls-noid", status=...)
    with pytest.raises(ResponseValidationError, match="'status'"):
        await client.get_job("cls-noid")
