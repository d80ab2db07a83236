"""The pacer (``aio_classify._http.pacer``) and the limiter's pacing on a fake clock that moves only
when a waiter sleeps: the spacing, a pause, the slow-start window and the cut on a 429, checked
to the microsecond and without sleeping."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from aio_classify._http.answers import Outcome
from aio_classify._http.pacer import Clock, Pacer
from aio_classify._http.rate_curve import BETA
from aio_classify._http.throttle import INITIAL_WINDOW, PAUSE_HINT, AdaptiveLimiter


class FakeClock:
    """Time that passes only when someone sleeps on it."""

    def __init__(self) -> None:
        self.time = 100.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.time += seconds
        await asyncio.sleep(0)

    def clock(self) -> Clock:
        return Clock(now=self.now, sleep=self.sleep)


def test_sends_are_spaced_one_over_the_pace_apart() -> None:
    pacer = Pacer()
    assert pacer.wait(0.0) == 0.0
    pacer.sent(0.0, 4.0)
    assert pacer.wait(0.0) == 0.25
    assert pacer.wait(0.1) == pytest.approx(0.15)
    assert pacer.wait(0.3) == 0.0


def test_an_unlimited_pace_never_waits() -> None:
    pacer = Pacer()
    pacer.sent(0.0, float("inf"))
    assert pacer.wait(0.0) == 0.0


def test_a_pause_holds_until_it_ends_and_a_shorter_one_does_not_cut_it() -> None:
    pacer = Pacer()
    pacer.pause_until(5.0)
    pacer.pause_until(2.0)
    assert pacer.wait(1.0) == 4.0
    assert pacer.wait(5.0) == 0.0


async def test_a_cap_spaces_turns_on_the_fake_clock() -> None:
    fake = FakeClock()
    limiter = AdaptiveLimiter("create", cap=10.0, adaptive=False, clock=fake.clock())
    turns = []
    for _ in range(4):
        turns.append(await limiter.acquire())
        limiter.report(turns[-1], Outcome.SUCCESS)
    assert [round(b - a, 9) for a, b in itertools.pairwise(turns)] == [0.1] * 3


async def test_the_slow_start_window_holds_until_a_success() -> None:
    fake = FakeClock()
    limiter = AdaptiveLimiter("get", cap=None, adaptive=True, clock=fake.clock())
    turns = [await limiter.acquire() for _ in range(INITIAL_WINDOW)]
    waiting = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    assert not waiting.done() and limiter.in_flight == INITIAL_WINDOW
    limiter.report(turns[0], Outcome.SUCCESS)
    await waiting
    assert limiter.window == INITIAL_WINDOW + 1 and fake.slept == []


async def test_a_429_cuts_the_pace_and_a_long_hint_pauses_the_kind() -> None:
    fake = FakeClock()
    limiter = AdaptiveLimiter("get", cap=None, adaptive=True, max_pause=3.0, clock=fake.clock())
    turn = await limiter.acquire()
    limiter.report(turn, Outcome.THROTTLED, retry_after=PAUSE_HINT + 9.0)
    cut_rate = limiter.rate
    assert cut_rate is not None and limiter.throttled
    assert await limiter.acquire() == turn + 3.0  # the pause, capped at max_pause
    limiter.report(turn + 3.0, Outcome.SUCCESS)
    assert await limiter.acquire() == pytest.approx(turn + 3.0 + 1.0 / cut_rate)


async def test_recovery_comes_once_the_curve_is_back_where_it_was_cut() -> None:
    fake = FakeClock()
    limiter = AdaptiveLimiter("get", cap=None, adaptive=True, clock=fake.clock())
    for _ in range(10):
        limiter.report(await limiter.acquire(), Outcome.SUCCESS)
    limiter.report(await limiter.acquire(), Outcome.THROTTLED)
    cut_rate = limiter.rate
    assert cut_rate is not None and limiter.throttled
    while limiter.throttled:
        limiter.report(await limiter.acquire(), Outcome.SUCCESS)
    assert limiter.rate == pytest.approx(cut_rate / BETA, rel=0.2)
    assert fake.time - 100.0 < 60.0  # fake seconds; the test itself never slept
