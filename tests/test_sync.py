"""``aio_classify.sync``: every method of the async client, blocking, against the fake on loopback.

The fake serves from its own thread (``ThreadedFake``), so the test's thread may block in the
sync client, or sit inside a running event loop of its own while doing so.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import re
import threading
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import aio_classify
from aio_classify import ClassifyClient as AsyncClient
from aio_classify import (
    ClassifyJob,
    JobFailedError,
    NotFoundError,
    Page,
    PollingTimeoutError,
)
from aio_classify.sync import ClassifyClient, JobPager, LazyIterator

from helpers import API_KEY, CONFIG, FAST_RETRIES, LIST, ThreadedFake, eventually

THREAD = "aio_classify.sync"


@pytest.fixture
def fake() -> Iterator[ThreadedFake]:
    with ThreadedFake(jobs=250, seed=3) as fake:
        yield fake


@pytest.fixture
def client(fake: ThreadedFake) -> Iterator[ClassifyClient]:
    with ClassifyClient(API_KEY, base_url=fake.url, retry_policy=FAST_RETRIES) as client:
        yield client


def add_job(fake: ThreadedFake, status: str) -> str:
    job_id: str = fake.call(lambda: fake.server.add_job(status=status))["id"]
    return job_id


def list_requests(fake: ThreadedFake) -> int:
    return fake.call(lambda: sum(r.path == LIST for r in fake.server.requests))  # type: ignore[no-any-return]


def sync_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == THREAD]


def open_sockets() -> int:
    """Sockets this process holds open (Linux: /proc/self/fd)."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):  # closed while we looked
            count += os.readlink(fd).startswith("socket:")
    return count


# -- one code path: the twins are the async methods ------------------------------------------


def public_members(cls: type) -> dict[str, object]:
    return {name: member for name, member in vars(cls).items() if not name.startswith("_")}


@pytest.mark.parametrize(
    ("sync_class", "async_class"),
    [(ClassifyClient, AsyncClient), (JobPager, aio_classify.JobPager)],
)
def test_every_async_method_has_a_sync_twin_with_its_signature(
    sync_class: type, async_class: type
) -> None:
    for name, member in public_members(async_class).items():
        twin = getattr(sync_class, name, None)
        assert twin is not None, f"{async_class.__name__}.{name} has no sync twin"
        if isinstance(member, property):
            assert isinstance(twin, property), name
            continue
        assert callable(member)
        expected = inspect.signature(member)
        got = inspect.signature(twin)
        assert list(got.parameters.values()) == list(expected.parameters.values()), name
        returns = re.sub(
            r"^Async(?:Generator|Iterator)\[(.+?)(?:, None)?\]$",
            r"Iterator[\1]",
            str(expected.return_annotation),
        )
        assert got.return_annotation == returns, name
        assert twin.__doc__, name


def test_the_constructor_takes_the_async_clients_arguments() -> None:
    assert inspect.signature(ClassifyClient) == inspect.signature(AsyncClient)
    with pytest.raises(TypeError):
        ClassifyClient(API_KEY, no_such_option=1)
    with pytest.raises(ValueError, match="no API key"):
        ClassifyClient("", base_url="http://127.0.0.1:1")  # the async client's own check


def test_construction_starts_no_thread(fake: ThreadedFake) -> None:
    client = ClassifyClient(API_KEY, base_url=fake.url)
    assert sync_threads() == []
    client.close()
    assert client.closed


# -- every method, blocking -------------------------------------------------------------------


def test_listing_yields_every_job_page_by_page(client: ClassifyClient, fake: ThreadedFake) -> None:
    pager = client.list_jobs(page_size=100)
    assert isinstance(pager, JobPager)
    jobs = list(pager)
    assert len(jobs) == 250 and all(isinstance(job, ClassifyJob) for job in jobs)
    assert len({job.id for job in jobs}) == 250
    assert [job.id for job in pager] == [job.id for job in jobs]  # again, from the first page
    pages = list(pager.pages())
    assert [len(page.items) for page in pages] == [100, 100, 50]
    first = pager.first_page()
    assert isinstance(first, Page) and first.next_page_token
    resumed = list(client.list_jobs(page_size=100, page_token=first.next_page_token))
    assert [job.id for job in resumed] == [job.id for job in jobs[100:]]


def test_a_limit_cuts_the_listing_and_requests_no_page_beyond_it(
    client: ClassifyClient, fake: ThreadedFake
) -> None:
    before = list_requests(fake)
    jobs = list(client.list_jobs(page_size=40, limit=50))
    assert len(jobs) == 50
    assert list_requests(fake) - before == 2
    assert list(client.list_jobs(job_ids=[])) == []


def test_listing_fetches_lazily_and_breaking_out_sends_nothing_more(
    client: ClassifyClient, fake: ThreadedFake
) -> None:
    before = list_requests(fake)
    for _ in client.list_jobs(page_size=10):
        break
    assert list_requests(fake) - before == 1
    listing = iter(client.list_jobs(page_size=10))
    assert list_requests(fake) - before == 1  # nothing sent before the first next()
    for _ in range(11):
        next(listing)
    assert list_requests(fake) - before == 3


def test_arguments_are_checked_at_the_call(client: ClassifyClient) -> None:
    with pytest.raises(ValueError, match="page_size"):
        client.list_jobs(page_size=0)
    with pytest.raises(ValueError, match="created_at_on_or_before"):
        client.scan_jobs(datetime.now(UTC), "2020-01-01T00:00:00Z")
    with pytest.raises(ValueError, match="job_id"):
        client.get_job("")


def test_scan_yields_every_job_of_the_range_once(client: ClassifyClient) -> None:
    everything = list(client.list_jobs())
    start = min(job.created_at for job in everything) - timedelta(seconds=1)
    end = max(job.created_at for job in everything) + timedelta(seconds=1)
    scanned = client.scan_jobs(start, end, partitions=4, concurrency=4)
    assert isinstance(scanned, LazyIterator)
    assert sorted(job.id for job in scanned) == sorted(job.id for job in everything)


def test_lookups(client: ClassifyClient) -> None:
    ids = [job.id for job in client.list_jobs(limit=30)]
    assert client.get_job(ids[0]).id == ids[0]
    assert client.get_job(ids[0], expand=["usage"]).id == ids[0]
    found = client.get_jobs([*ids, "cls-unknown", ids[0]], batch_size=7)
    assert list(found) == ids
    assert sorted(job.id for job in client.iter_jobs(iter(ids), batch_size=7)) == sorted(ids)


def test_create_run_cancel_delete(client: ClassifyClient, fake: ThreadedFake) -> None:
    job = client.create_job("dfl-sync", CONFIG)
    assert job.status == "PENDING"
    assert client.cancel_job(job.id).status == "CANCELLED"
    assert client.cancel_job(job.id).status == "CANCELLED"  # idempotent, as the async one
    client.delete_job(job.id)
    with pytest.raises(NotFoundError):
        client.get_job(job.id)
    fake.call(lambda: setattr(fake.server, "lifecycle", aio_classify.testing.Lifecycle(0.01)))
    done = client.run("dfl-sync-2", CONFIG, poll_interval=0.01, max_interval=0.02, timeout=30)
    assert done.status == "COMPLETED"


def test_waits(client: ClassifyClient, fake: ThreadedFake) -> None:
    finished = add_job(fake, "COMPLETED")
    failed = add_job(fake, "FAILED")
    pending = add_job(fake, "PENDING")
    assert client.wait_for_job(finished).status == "COMPLETED"
    with pytest.raises(JobFailedError):
        client.wait_for_job(failed)
    with pytest.raises(PollingTimeoutError) as timed_out:
        client.wait_for_jobs([finished, pending], poll_interval=0.01, timeout=0.05)
    assert timed_out.value.pending == [pending]
    fake.call(lambda: fake.server.complete(pending))
    done = client.wait_for_jobs([pending, finished, failed], poll_interval=0.01)
    assert list(done) == [pending, finished, failed]
    watched = client.watch_jobs([finished, failed], poll_interval=0.01)
    assert sorted(job.id for job in watched) == sorted([finished, failed])


def test_closing_a_watch_early_stops_its_polling(
    client: ClassifyClient, fake: ThreadedFake
) -> None:
    finished = add_job(fake, "COMPLETED")
    pending = add_job(fake, "PENDING")
    with client.watch_jobs([finished, pending], poll_interval=0.01, max_interval=0.01) as watch:
        assert next(watch).id == finished
    settled = list_requests(fake)
    client.get_job(finished)  # a round trip through the loop after the close
    assert list_requests(fake) == settled
    assert list(watch) == []


def test_properties_and_attributes_read_through(client: ClassifyClient, fake: ThreadedFake) -> None:
    assert client.base_url == fake.url
    assert client.project_id is None
    assert not client.closed
    assert "ClassifyClient(base_url=" in repr(client)
    with pytest.raises(AttributeError):
        _ = client.no_such_attribute


# -- errors -----------------------------------------------------------------------------------


def test_errors_are_the_async_clients_and_point_at_the_callers_line(
    client: ClassifyClient,
) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.get_job("cls-missing")  # the caller's line
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert frames[0].name == "test_errors_are_the_async_clients_and_point_at_the_callers_line"
    assert frames[0].line == 'client.get_job("cls-missing")  # the caller\'s line'
    assert frames[-1].filename.endswith("protocol.py")  # where the service's answer was read
    assert caught.value.__context__ is None  # no waiting machinery in the chain


def test_a_closed_client_refuses_calls_like_the_async_one(fake: ThreadedFake) -> None:
    client = ClassifyClient(API_KEY, base_url=fake.url)
    client.get_job(add_job(fake, "COMPLETED"))
    client.close()
    client.close()  # twice is fine
    assert client.closed
    with pytest.raises(RuntimeError, match="closed"):
        client.get_job("cls-1")
    with pytest.raises(RuntimeError, match="closed"):
        list(client.list_jobs())


def test_close_leaves_no_thread_and_no_socket(fake: ThreadedFake) -> None:
    before = open_sockets()
    with ClassifyClient(API_KEY, base_url=fake.url) as client:
        ids = [job.id for job in client.list_jobs(limit=100)]
        client.get_jobs(ids, batch_size=10, concurrency=8)  # several connections
        assert len(sync_threads()) == 1
        assert open_sockets() > before
    assert sync_threads() == []
    assert eventually(lambda: open_sockets() == before)  # the fake's ends close as they see EOF


def test_a_client_collected_unclosed_lets_its_thread_end(fake: ThreadedFake) -> None:
    client = ClassifyClient(API_KEY, base_url=fake.url)
    client.get_job(add_job(fake, "COMPLETED"))
    (thread,) = sync_threads()
    del client
    thread.join(timeout=30)
    assert not thread.is_alive()


# -- threads and running loops ---------------------------------------------------------------


def test_sixteen_threads_share_one_client(client: ClassifyClient) -> None:
    jobs = {job.id: job for job in client.list_jobs()}
    ids = list(jobs)
    errors: list[BaseException] = []
    seen: list[set[str]] = []

    def work(offset: int) -> None:
        try:
            mine = ids[offset::16]
            got = {client.get_job(job_id).id for job_id in mine[:5]}
            got |= set(client.get_jobs(mine))
            got |= {job.id for job in client.list_jobs(job_ids=mine)}
            seen.append(got)
            assert got == set(mine)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set().union(*seen) == set(ids)
    assert len(sync_threads()) == 1


def test_called_from_inside_asyncio_run(client: ClassifyClient, fake: ThreadedFake) -> None:
    job_id = add_job(fake, "COMPLETED")

    async def main() -> tuple[str, int, set[asyncio.Task[object]]]:
        job = client.get_job(job_id)  # blocks this loop; runs on the client's own
        listed = sum(1 for _ in client.list_jobs(page_size=100))
        return job.id, listed, asyncio.all_tasks()

    found, listed, tasks = asyncio.run(main())
    assert (found, listed) == (job_id, 251)
    assert len(tasks) == 1  # only main(): nothing was scheduled on the caller's loop


def test_called_from_a_loop_that_is_already_running_like_a_notebook(
    client: ClassifyClient, fake: ThreadedFake
) -> None:
    job_id = add_job(fake, "COMPLETED")
    loop = asyncio.new_event_loop()
    results: list[object] = []

    def cell() -> None:  # a notebook cell: plain code, run while the kernel's loop runs
        try:
            results.append(client.wait_for_job(job_id).id)
        except BaseException as error:
            results.append(error)
        finally:
            loop.stop()

    loop.call_soon(cell)
    try:
        loop.run_forever()
    finally:
        loop.close()
    assert results == [job_id]


def test_a_blocking_call_from_the_clients_own_loop_is_refused(client: ClassifyClient) -> None:
    def inside() -> object:
        try:
            return client.get_job("cls-1")
        except RuntimeError as error:
            return error

    outcome = client._runner.call(inside)
    assert isinstance(outcome, RuntimeError) and "own event loop" in str(outcome)


def test_an_async_client_returned_by_a_method_becomes_a_sync_client_on_the_same_thread(
    client: ClassifyClient, fake: ThreadedFake
) -> None:
    """What ``with_options`` (an async method returning a ``ClassifyClient``) gets: a sync
    client sharing the loop thread, whose ``close()`` closes only itself."""
    job_id = add_job(fake, "COMPLETED")
    view = client._wrap(AsyncClient(API_KEY, base_url=fake.url, max_retries=0))
    assert isinstance(view, ClassifyClient) and view._runner is client._runner
    assert view.get_job(job_id).id == job_id
    view.close()
    assert view.closed and not client.closed
    assert client.get_job(job_id).id == job_id
    assert len(sync_threads()) == 1
