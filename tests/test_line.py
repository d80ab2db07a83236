"""The line of waiters every limiter uses: first come, first served, one head at a time, and no
waiter left behind by one that leaves (cancelled, in line or at the head)."""

from __future__ import annotations

import asyncio

from aio_classify._http.line import Line


async def test_waiters_go_one_at_a_time_in_the_order_they_came() -> None:
    line = Line()
    order: list[int] = []
    inside = 0

    async def take(number: int) -> None:
        nonlocal inside
        async with line.head():
            inside += 1
            assert inside == 1
            await asyncio.sleep(0)  # let the others try to get in
            order.append(number)
            inside -= 1

    await asyncio.gather(*(take(number) for number in range(5)))
    assert order == [0, 1, 2, 3, 4]
    assert len(line) == 0


async def test_a_waiter_cancelled_in_line_or_at_the_head_holds_up_nobody() -> None:
    line = Line()
    release = asyncio.Event()
    served: list[str] = []

    async def take(name: str, hold: bool = False) -> None:
        async with line.head():
            if hold:
                await release.wait()
            served.append(name)

    head = asyncio.create_task(take("head", hold=True))
    middle = asyncio.create_task(take("middle"))
    last = asyncio.create_task(take("last"))
    await asyncio.sleep(0)
    assert len(line) == 3
    middle.cancel()
    head.cancel()
    await asyncio.wait_for(last, timeout=5)  # a bound, not a timing claim
    assert served == ["last"]
    assert len(line) == 0
