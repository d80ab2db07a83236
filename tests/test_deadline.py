"""``Deadline``: the one clock a call's ``total_timeout`` is measured on."""

from __future__ import annotations

import asyncio

import pytest

from aio_classify import APITimeoutError
from aio_classify._http.deadline import Deadline


async def test_an_attempt_past_the_deadline_is_an_api_timeout_error_with_no_chain() -> None:
    deadline = Deadline(0.05, "GET /x")
    with pytest.raises(APITimeoutError, match=r"GET /x ran out of total_timeout=0\.05s") as caught:
        await deadline.run(lambda: asyncio.sleep(10))
    assert caught.value.__cause__ is None and caught.value.__context__ is None


async def test_an_attempts_own_timeout_error_passes_through_unchanged() -> None:
    async def own_timeout() -> None:
        raise TimeoutError("mine")

    with pytest.raises(TimeoutError, match="mine"):
        await Deadline(10.0, "GET /x").run(own_timeout)


async def test_a_wait_fits_only_when_time_is_left_after_it() -> None:
    deadline = Deadline(10.0, "GET /x")
    assert deadline.leaves_time_after(1.0)
    assert not deadline.leaves_time_after(30.0)
    assert await deadline.run(lambda: asyncio.sleep(0, "done")) == "done"
