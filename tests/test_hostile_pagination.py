"""Pagination cannot be made endless: endless empty pages and token loops of any length end in
``PaginationError``, in every path that pages, with bounded memory and short messages."""

from __future__ import annotations

import asyncio
import itertools
import sys

import pytest
from aiohttp import web

from aio_classify import ClassifyClient, PaginationError
from aio_classify._jobs import pagination

from helpers import FAST_RETRIES, SCRIPTED_KEY, Handler, job, scripted

DEADLINE = 20.0


def fresh_empty_pages() -> Handler:
    """Empty pages, each with a never-seen token, for ever."""
    counter = itertools.count()

    async def handle(_: web.Request) -> web.Response:
        return web.json_response({"items": [], "next_page_token": f"t{next(counter)}"})

    return handle


def client_for(url: str) -> ClassifyClient:
    return ClassifyClient(SCRIPTED_KEY, base_url=url, retry_policy=FAST_RETRIES)


async def test_list_jobs_gives_up_on_endless_empty_pages() -> None:
    async with (
        scripted(fresh_empty_pages()) as srv,
        asyncio.timeout(DEADLINE),
        client_for(srv.url) as client,
    ):
        with pytest.raises(PaginationError, match="empty pages in a row"):
            _ = [found async for found in client.list_jobs()]
    assert len(srv.requests) == pagination.MAX_EMPTY_PAGES


async def test_get_jobs_gives_up_on_endless_empty_pages() -> None:
    async with (
        scripted(fresh_empty_pages()) as srv,
        asyncio.timeout(DEADLINE),
        client_for(srv.url) as client,
    ):
        with pytest.raises(PaginationError):
            await client.get_jobs(["a", "b"])


async def test_polling_gives_up_on_endless_empty_pages() -> None:
    async with (
        scripted(fresh_empty_pages()) as srv,
        asyncio.timeout(DEADLINE),
        client_for(srv.url) as client,
    ):
        with pytest.raises(PaginationError):
            await client.wait_for_jobs(["a"], poll_interval=0.01, max_interval=0.01, timeout=60)


async def test_empty_pages_between_full_ones_are_followed() -> None:
    """The limit is on empty pages *in a row*: a sparse listing still ends normally."""
    counter = itertools.count()

    async def sparse(_: web.Request) -> web.Response:
        n = next(counter)
        items = [job(f"cls-{n}")] if n % (pagination.MAX_EMPTY_PAGES - 1) == 0 else []
        token = f"t{n}" if n < 3 * pagination.MAX_EMPTY_PAGES else None
        return web.json_response({"items": items, "next_page_token": token})

    async with scripted(sparse) as srv, client_for(srv.url) as client:
        found = [item.id async for item in client.list_jobs()]
    assert len(found) == 4
    assert len(srv.requests) == 3 * pagination.MAX_EMPTY_PAGES + 1


async def test_a_long_token_sent_back_makes_a_short_message_and_keeps_the_token() -> None:
    token = "T" * 100_000

    async def same(_: web.Request) -> web.Response:
        return web.json_response({"items": [job()], "next_page_token": token})

    async with scripted(same) as srv, client_for(srv.url) as client:
        with pytest.raises(PaginationError) as caught:
            _ = [found async for found in client.list_jobs()]
    assert len(str(caught.value)) < 1100
    assert caught.value.token == token


def test_a_token_loop_longer_than_the_memory_window_is_still_caught() -> None:
    cycle = [f"token-{n}" for n in range(10 * pagination.RECENT_TOKENS)]
    guard = pagination.LoopGuard(None)
    steps = 0
    with pytest.raises(PaginationError):  # noqa: PT012 (the loop is what must raise)
        for steps, token in enumerate(itertools.cycle(cycle)):  # noqa: B007
            guard.check(token, empty=False)
    assert steps < 4 * len(cycle)  # caught within two laps (Brent)


def test_loop_detection_memory_stays_bounded_with_long_tokens() -> None:
    guard = pagination.LoopGuard("first")
    for n in range(20 * pagination.RECENT_TOKENS):
        guard.check(f"{n:010d}" + "x" * 100_000, empty=False)
    held = sys.getsizeof(guard._recent_set) + sum(map(sys.getsizeof, guard._recent_set))
    assert len(guard._recent) == pagination.RECENT_TOKENS
    assert held < 100_000  # a few digests, not 5,120 tokens of 100 KB


def test_a_distinct_listing_of_any_length_is_never_refused() -> None:
    guard = pagination.LoopGuard(None)
    for n in range(100_000):
        guard.check(f"token-{n}", empty=False)
