"""Page sequences no honest server sends, scripted with aioresponses."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aioresponses import aioresponses

from aio_classify import ClassifyClient, PaginationError

from helpers import SCRIPTED_BASE

LIST_URL = re.compile(r"^" + re.escape(SCRIPTED_BASE) + r"/api/v2/classify(\?.*)?$")


def page(ids: list[str], token: str | None) -> dict[str, Any]:
    return {"items": [{"id": i, "status": "COMPLETED"} for i in ids], "next_page_token": token}


def sent_tokens(mocked: aioresponses) -> list[str | None]:
    return [
        dict(call.kwargs["params"] or []).get("page_token")
        for calls in mocked.requests.values()
        for call in calls
    ]


async def test_a_token_handed_back_again_raises(
    mocked: aioresponses, client: ClassifyClient
) -> None:
    mocked.get(LIST_URL, payload=page(["a"], "t1"))
    mocked.get(LIST_URL, payload=page(["b"], "t1"))
    seen: list[str] = []

    async def consume() -> None:
        async for job in client.list_jobs():
            seen.append(job.id)

    with pytest.raises(PaginationError, match="t1"):
        await consume()
    assert seen == ["a", "b"]


async def test_a_token_cycle_raises(mocked: aioresponses, client: ClassifyClient) -> None:
    mocked.get(LIST_URL, payload=page(["a"], "t1"))
    mocked.get(LIST_URL, payload=page(["b"], "t2"))
    mocked.get(LIST_URL, payload=page(["c"], "t1"))
    with pytest.raises(PaginationError):
        [job async for job in client.list_jobs()]


async def test_resume_token_handed_back_raises(
    mocked: aioresponses, client: ClassifyClient
) -> None:
    mocked.get(LIST_URL, payload=page(["a"], "start"))
    with pytest.raises(PaginationError):
        [job async for job in client.list_jobs(page_token="start")]


async def test_an_empty_page_with_a_token_is_followed(
    mocked: aioresponses, client: ClassifyClient
) -> None:
    mocked.get(LIST_URL, payload=page([], "t1"))
    mocked.get(LIST_URL, payload=page([], "t2"))
    mocked.get(LIST_URL, payload=page(["a"], ""))
    assert [job.id async for job in client.list_jobs()] == ["a"]
    assert sent_tokens(mocked) == [None, "t1", "t2"]


async def test_an_empty_token_ends_the_listing(
    mocked: aioresponses, client: ClassifyClient
) -> None:
    mocked.get(LIST_URL, payload=page(["a", "b"], ""))
    mocked.get(LIST_URL, payload=page(["never"], None))
    assert [job.id async for job in client.list_jobs()] == ["a", "b"]
    assert sent_tokens(mocked) == [None]
