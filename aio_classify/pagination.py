"""``JobPager``: a lazy, restartable listing; items by ``async for``, pages by ``.pages()``.

One page is fetched at a time, only when the consumer asks for it. Each page's response is
read whole before it is yielded, so no connection is held between pages: breaking out of the
loop, or cancelling the task, leaves nothing open.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing

from .errors import PaginationError
from .models import ClassifyJob, Page

__all__ = ["JobPager", "PageFetcher"]

PageFetcher = Callable[[str | None], Awaitable[Page]]
"""Fetch the page that starts at a token (``None``: the first page)."""

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
        remaining = self._limit
        async with aclosing(self.pages()) as pages:
            async for page in pages:
                for job in page.items:
                    yield job
                    if remaining is not None:
                        remaining -= 1
                        if remaining == 0:
                            return

    async def pages(self) -> AsyncGenerator[Page, None]:
        """Whole pages, up to the one holding the ``limit``-th job."""
        if self._fetch_page is None:
            return
        token = self._page_token
        seen = {token}
        count = 0
        while True:
            page = await self._fetch_page(token)
            yield page
            count += len(page.items)
            token = page.next_page_token
            if not token or (self._limit is not None and count >= self._limit):
                return
            if token in seen:
                raise PaginationError(
                    f"the server returned page token {token!r} a second time; "
                    "following it would loop forever"
                )
            seen.add(token)

    async def first_page(self) -> Page:
        """Only the first page (one request): its ``next_page_token`` resumes the listing later,
        with ``list_jobs(..., page_token=token)``."""
        if self._fetch_page is None:
            return _NO_PAGE
        return await self._fetch_page(self._page_token)
