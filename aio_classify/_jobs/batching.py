"""Batched lookups of many jobs: ids grouped into filtered ``list`` calls, fanned out under one
limit on requests in flight.

Three pieces: ``read_batches`` reads ids lazily (sync or async iterable), drops duplicates and
cuts batches by count and URL bytes; ``BatchLookup`` runs one batch per task with every request
under a single ``asyncio.Semaphore``; ``fan_out`` keeps a bounded number of batch tasks alive so
input is read only as fast as results are produced, and cancels and awaits every task when the
consumer stops or a batch fails (``scan`` fans out the pages of its time windows with it too).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Sequence,
)
from contextlib import aclosing
from itertools import islice
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

from .._http.protocol import Query, list_query
from .._validation import CheckedIds, check_job_id
from .pagination import AnyPage, follow_pages

__all__ = [
    "MAX_URL_BYTES",
    "BatchLookup",
    "JobIds",
    "PageOf",
    "PagesFor",
    "distinct_ids",
    "fan_out",
    "id_chunks",
    "read_batches",
]

JobIds = Iterable[str] | AsyncIterable[str]

_In = TypeVar("_In")
_Out = TypeVar("_Out")


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_Item = TypeVar("_Item", bound=_HasId)
_Item_co = TypeVar("_Item_co", bound=_HasId, covariant=True)


class PageOf(AnyPage, Protocol[_Item_co]):
    """A page of such items: a ``Page``, or a polling round's ``StatusPage``."""

    @property
    def items(self) -> Sequence[_Item_co]: ...


PagesFor = Callable[[Query], Callable[[str | None], Awaitable[PageOf[_Item]]]]
"""Turns a listing's query into a fetcher of its pages (``ClassifyClient._page_fetcher``)."""

MAX_URL_BYTES = 8 * 1024
"""Servers and proxies commonly refuse longer request lines; every batch URL stays under it."""

PAGE_TOKEN_RESERVE = 512
"""Bytes kept free in a batch URL for the opaque ``page_token`` of a follow-up page."""

_JOB_IDS_PARAM = len("&job_ids=")

_PAGE_SIZE = 100
"""The ``page_size`` of every batch request (the service's most), counted in the URL budget."""


def query_bytes(params: Query) -> int:
    """Length of ``k=v&k=v`` with every key and value percent-encoded as strictly as possible,
    so the count is an upper bound of what the HTTP library actually sends."""
    return sum(len(quote(key, safe="")) + len(quote(value, safe="")) + 2 for key, value in params)


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")
"""Characters ``quote`` leaves as they are: ids made only of them (all real ids) skip it."""


def _quoted_length(value: str) -> int:
    return len(value) if _UNRESERVED.fullmatch(value) else len(quote(value, safe=""))


async def distinct_ids(job_ids: JobIds) -> CheckedIds:
    """Every id, checked, once each, in input order (a wait needs the whole set)."""
    ids: dict[str, None] = {}
    async with aclosing(id_chunks(job_ids, _PAGE_SIZE)) as chunks:
        async for chunk in chunks:
            for job_id in chunk:
                ids[check_job_id(job_id, "job_ids item")] = None
    return CheckedIds(ids)


async def id_chunks(job_ids: JobIds, size: int) -> AsyncGenerator[list[Any], None]:
    """The items of a sync iterable ``size`` at a time (read ahead by at most one batch), of an
    async one each as it comes (never waiting on the source for a batch it could send). Not
    checked: callers check each id."""
    if isinstance(job_ids, AsyncIterable):
        async for job_id in job_ids:
            yield [job_id]
    else:
        iterator = iter(job_ids)
        while chunk := list(islice(iterator, size)):
            yield chunk


async def read_batches(
    job_ids: JobIds, *, batch_size: int, byte_budget: int, seen: dict[str, None]
) -> AsyncGenerator[list[str], None]:
    """Distinct ids in input order, in batches of at most ``batch_size`` ids whose
    ``job_ids=...`` query parts add up to at most ``byte_budget`` bytes.

    Ids are read a batch ahead at most (an async source one at a time); each new one is
    recorded in ``seen`` (in input order), which is how duplicates are skipped and how
    ``get_jobs`` orders its result. A bad id raises here, before any request for its batch;
    ``CheckedIds`` are not checked again.
    """
    checked = isinstance(job_ids, CheckedIds)
    batch: list[str] = []
    used = 0
    async with aclosing(id_chunks(job_ids, batch_size)) as chunks:
        async for chunk in chunks:
            for job_id in chunk:
                if not checked:
                    check_job_id(job_id, "job_ids item")
                if job_id in seen:
                    continue
                cost = _JOB_IDS_PARAM + _quoted_length(job_id)
                if cost > byte_budget:
                    raise ValueError(
                        f"job id {job_id[:40]!r}... is too long to fit in a "
                        f"{MAX_URL_BYTES}-byte URL"
                    )
                if batch and used + cost > byte_budget:
                    yield batch
                    batch, used = [], 0
                seen[job_id] = None
                batch.append(job_id)
                used += cost
                if len(batch) == batch_size:  # full: sent now, not when the next id arrives
                    yield batch
                    batch, used = [], 0
    if batch:
        yield batch


async def fan_out(
    inputs: AsyncGenerator[_In, None],
    fetch: Callable[[_In], Coroutine[Any, Any, _Out]],
    *,
    max_tasks: int,
    follow_up: Callable[[_Out], _In | None] | None = None,
) -> AsyncGenerator[_Out, None]:
    """``fetch(item)`` for each input, results yielded as they finish, with at most
    ``max_tasks`` under way.

    ``follow_up`` turns a result into one more input (``None``: none), fetched at once, before
    the result is yielded and before the inputs not yet read: this is how ``scan`` asks for each
    window's next page as soon as its last one came, while the consumer is still reading it.

    The next batch is read by a task of its own, waited for alongside the batches in flight:
    an input that stalls (an async source waiting on a queue) never holds back results that
    are already in.

    Tasks are managed by hand rather than by a ``TaskGroup``: a task group left open across a
    ``yield`` would cancel the *consumer's* task when a batch fails (PEP 789). Here, whatever
    ends the generator (exhaustion, a failed batch, a bad id in the input, ``aclose()`` or
    cancellation of the consumer), the ``finally`` cancels the reader and the batches still
    running and awaits them, and every task's exception is retrieved.
    """
    running: set[asyncio.Task[_Out]] = set()
    reader: asyncio.Task[_In | None] | None = None
    exhausted = False
    try:
        while True:
            if reader is None and not exhausted and len(running) < max_tasks:
                reader = asyncio.create_task(_next_input(inputs))
            waiting: set[asyncio.Task[Any]] = {*running, *([reader] if reader else [])}
            if not waiting:
                return
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if reader is not None and reader in done:
                item, reader = reader.result(), None  # a bad id in the input raises here
                if item is None:
                    exhausted = True
                else:
                    running.add(asyncio.create_task(fetch(item)))
            finished = [task for task in running if task in done]
            running.difference_update(finished)
            errors = [error for task in finished if (error := task.exception()) is not None]
            if errors:
                raise errors[0]
            for task in finished:
                result = task.result()
                if follow_up is not None and (item := follow_up(result)) is not None:
                    running.add(asyncio.create_task(fetch(item)))  # takes the finished one's place
                yield result
    finally:
        try:
            await _cancel_and_wait({*running, *([reader] if reader else [])})
        finally:
            await inputs.aclose()


async def _next_input(inputs: AsyncGenerator[_In, None]) -> _In | None:
    return await anext(inputs, None)


async def _cancel_and_wait(tasks: set[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait until all have ended, even if we are cancelled meanwhile
    (then re-raise that cancellation); leave no exception unretrieved."""
    for task in tasks:
        task.cancel()
    waiting = set(tasks)
    interrupted = False
    while waiting:
        try:
            _, waiting = await asyncio.wait(waiting)
        except asyncio.CancelledError:
            interrupted = True
    for task in tasks:
        if not task.cancelled():
            task.exception()
    if interrupted:
        raise asyncio.CancelledError


class BatchLookup(Generic[_Item]):
    """Looks jobs up by id with filtered ``list`` calls, for one user call (one limiter).

    ``page_fetcher`` turns a query into a page fetcher: pages of ``ClassifyJob`` for
    ``get_jobs``, a polling round's ``StatusPage`` for waits. ``scope`` is the project /
    organization query; ``base_bytes`` the length of base URL and path.
    """

    def __init__(
        self,
        page_fetcher: PagesFor[_Item],
        *,
        scope: Query,
        base_bytes: int,
        concurrency: int,
        batch_size: int,
    ) -> None:
        self._page_fetcher = page_fetcher
        self._scope = scope
        self._byte_budget = (
            MAX_URL_BYTES
            - base_bytes
            - 1  # "?"
            - query_bytes(list_query(scope, page_size=_PAGE_SIZE))
            - PAGE_TOKEN_RESERVE
        )
        self._limiter = asyncio.Semaphore(concurrency)
        self._max_tasks = concurrency
        self._batch_size = batch_size

    @property
    def batch_size(self) -> int:
        """Most ids one request asks about."""
        return self._batch_size

    async def iter_jobs(
        self, job_ids: JobIds, seen: dict[str, None] | None = None
    ) -> AsyncGenerator[_Item, None]:
        """Every job the server knows among ``job_ids``, batch by batch as batches complete."""
        async with aclosing(self.iter_batches(job_ids, seen)) as batches:
            async for jobs in batches:
                for job in jobs:
                    yield job

    def iter_batches(
        self, job_ids: JobIds, seen: dict[str, None] | None = None
    ) -> AsyncGenerator[list[_Item], None]:
        """The jobs found by each batch, as batches complete (``seen``: see ``read_batches``)."""
        batches = read_batches(
            job_ids,
            batch_size=self._batch_size,
            byte_budget=self._byte_budget,
            seen={} if seen is None else seen,
        )
        return fan_out(batches, self._fetch_batch, max_tasks=self._max_tasks)

    async def get_jobs(self, job_ids: JobIds) -> dict[str, _Item]:
        """The jobs the server knows among ``job_ids``, keyed by id in input order."""
        seen: dict[str, None] = {}
        found: dict[str, _Item] = {}
        async with aclosing(self.iter_jobs(job_ids, seen)) as jobs:
            async for job in jobs:
                found[job.id] = job
        return {job_id: found[job_id] for job_id in seen if job_id in found}

    async def _fetch_batch(self, ids: list[str]) -> list[_Item]:
        """One filtered listing, following its pages; each page request holds the limiter for
        all its attempts, so requests in flight never exceed ``concurrency``."""
        fetch_page = self._page_fetcher(list_query(self._scope, page_size=_PAGE_SIZE, job_ids=ids))

        async def limited_fetch_page(token: str | None) -> PageOf[_Item]:
            async with self._limiter:
                return await fetch_page(token)

        wanted = set(ids)
        found: list[_Item] = []
        pages = follow_pages(limited_fetch_page, page_token=None, limit=None)
        async with aclosing(pages):
            async for page in pages:
                found += [job for job in page.items if job.id in wanted]
        return found
