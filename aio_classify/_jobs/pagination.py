"""``JobPager``: a lazy, restartable listing; items by ``async for``, pages by ``.pages()``.

One page is fetched at a time, only when the consumer asks for it. Each page's response is
read whole before it is yielded, so no connection is held between pages: breaking out of the
loop, or cancelling the task, leaves nothing open.

A hostile or broken server cannot make a listing endless (``LoopGuard``): a token handed back
again raises ``PaginationError``, and so do ``MAX_EMPTY_PAGES`` empty pages in a row, with
memory that stays bounded however long the listing. Every path that pages (``list_jobs``,
the batches of ``get_jobs`` / ``iter_jobs`` and the polling rounds) goes through
``follow_pages``, whatever its pages hold.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from typing import Any, Protocol, TypeVar

from .._core.errors import PaginationError
from .._core.models import ClassifyJob, Page
from .._core.sanitize import clip

__all__ = [
    "MAX_EMPTY_PAGES",
    "RECENT_TOKENS",
    "AnyPage",
    "JobPager",
    "LoopGuard",
    "PageFetcher",
    "follow_pages",
]

MAX_EMPTY_PAGES = 20
"""Consecutive empty pages that still carry a next token, before the listing is given up."""

RECENT_TOKENS = 256
"""Tokens remembered exactly (as 16-byte digests, so long tokens cost no more)."""

PageFetcher = Callable[[str | None], Awaitable[Page]]
"""Fetch the page that starts at a token (``None``: the first page)."""


class AnyPage(Protocol):
    """What paging needs of a page: a ``Page``, or a polling round's ``StatusPage``."""

    @property
    def items(self) -> Sequence[Any]: ...

    @property
    def next_page_token(self) -> str | None: ...


_PageT = TypeVar("_PageT", bound=AnyPage)

_NO_PAGE = Page(items=(), next_page_token=None, total_size=0)


class JobPager:
    """Returned by ``ClassifyClient.list_jobs``; iterating it again starts from its first page."""

    def __init__(
        self, fetch_page: PageFetcher | None, *, page_token: str | None, limit: int | None
    ) -> None:
        # ``fetch_page`` is None for a listing known to be empty (``job_ids=[]``): no request.
        self._fetch_page = fetch_page
        self._page_token = page_token
        self._limit = limit

    def __aiter__(self) -> AsyncIterator[ClassifyJob]:
        return self._items()

    async def _items(self) -> AsyncGenerator[ClassifyJob, None]:
        async with aclosing(self._item_batches()) as batches:
            async for batch in batches:
                for job in batch:
                    yield job

    async def _item_batches(self) -> AsyncGenerator[Sequence[ClassifyJob], None]:
        """The jobs page by page, the last page cut at ``limit``: what ``async for`` yields,
        grouped as fetched (the sync client hands a page across threads at once)."""
        remaining = self._limit
        async with aclosing(self.pages()) as pages:
            async for page in pages:
                if remaining is None:
                    yield page.items
                    continue
                yield page.items[:remaining]
                remaining -= len(page.items)
                if remaining <= 0:
                    return

    async def pages(self) -> AsyncGenerator[Page, None]:
        """Whole pages, up to the one holding the ``limit``-th job."""
        if self._fetch_page is None:
            return
        pages = follow_pages(self._fetch_page, page_token=self._page_token, limit=self._limit)
        async with aclosing(pages):
            async for page in pages:
                yield page

    async def first_page(self) -> Page:
        """Only the first page (one request): its ``next_page_token`` resumes the listing later,
        with ``list_jobs(..., page_token=token)``."""
        if self._fetch_page is None:
            return _NO_PAGE
        return await self._fetch_page(self._page_token)


async def follow_pages(
    fetch_page: Callable[[str | None], Awaitable[_PageT]],
    *,
    page_token: str | None,
    limit: int | None,
) -> AsyncGenerator[_PageT, None]:
    """Pages from ``page_token`` on, one request each, up to the one holding the ``limit``-th
    item; a loop of tokens raises (``LoopGuard``)."""
    token = page_token
    guard = LoopGuard(token)
    count = 0
    while True:
        page = await fetch_page(token)
        yield page
        count += len(page.items)
        token = page.next_page_token
        if not token or (limit is not None and count >= limit):
            return
        guard.check(token, empty=not page.items)


class LoopGuard:
    """Tells a pagination loop from a long listing, in bounded memory.

    A token seen among the last ``RECENT_TOKENS`` is caught at once. A longer cycle is caught
    by Brent's method: one checkpoint token, moved to the current one each time the step count
    reaches a power of two, is met again within two laps of any cycle. Tokens are kept as
    digests, so a server sending 100 KB tokens costs 16 bytes each.
    """

    def __init__(self, first_token: str | None) -> None:
        self._recent: deque[bytes] = deque(maxlen=RECENT_TOKENS)
        self._recent_set: set[bytes] = set()
        self._checkpoint = _digest(first_token) if first_token else b""
        self._steps = 0
        self._empty_pages = 0
        if first_token:
            self._remember(self._checkpoint)

    def check(self, token: str, *, empty: bool) -> None:
        """Raise ``PaginationError`` if following ``token`` (after a page, ``empty`` or not)
        could loop forever."""
        self._empty_pages = self._empty_pages + 1 if empty else 0
        if self._empty_pages >= MAX_EMPTY_PAGES:
            raise PaginationError(
                f"the server answered {self._empty_pages} empty pages in a row, each with a next "
                "page token; following them may never end",
                token=token,
            )
        digest = _digest(token)
        if digest in self._recent_set or digest == self._checkpoint:
            raise PaginationError(
                f"the server returned page token {clip(token, 100)!r} a second time; "
                "following it would loop forever",
                token=token,
            )
        self._remember(digest)
        self._steps += 1
        if self._steps & (self._steps - 1) == 0:  # a power of two
            self._checkpoint = digest

    def _remember(self, digest: bytes) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(digest)
        self._recent_set.add(digest)


def _digest(token: str) -> bytes:
    return hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=16).digest()
