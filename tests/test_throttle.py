"""Client-side throttling (``aio_classify._http.throttle``) against the fake server's rate
limits over loopback: gathered calls all succeed whatever the hint, an explicit cap sees no 429 at
all, waiting for a turn is not an attempt, one limiter serves every task, throttling and recovery
are logged once each, and ``adaptive_throttling=False`` is plain per-request retrying."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from aio_classify import ClassifyClient, ClassifyError, ClassifyJob, RateLimitError, RetryPolicy
from aio_classify._http.throttle import INITIAL_WINDOW, AdaptiveLimiter, Outcome, in_turn
from aio_classify.testing import FakeClassifyServer

from helpers import API_KEY, CONFIG, FAST_RETRIES, scripted


def client_for(server: FakeClassifyServer, **options: Any) -> ClassifyClient:
    return ClassifyClient(API_KEY, base_url=server.url, retry_policy=FAST_RETRIES, **options)


async def create_many(client: ClassifyClient, count: int) -> list[Any]:
    return await asyncio.gather(
        *(client.create_job(f"dfl-{i}.pdf", CONFIG) for i in range(count)), return_exceptions=True
    )


def throttled(server: FakeClassifyServer, call: str = "create") -> int:
    return sum(1 for _, refused in server.rate_limit_log.get(call, []) if refused)


@pytest.fixture
async def slow_server() -> AsyncIterator[FakeClassifyServer]:
    """The fake with 20 ms added to every request, like a nearby real service."""
    async with FakeClassifyServer(api_key=API_KEY, latency=0.02) as fake:
        yield fake


@pytest.mark.parametrize("hint", ["seconds", "ms", "none"])
async def test_gathered_creates_all_succeed_with_few_429s_whatever_the_hint(
    slow_server: FakeClassifyServer, hint: str
) -> None:
    slow_server.set_rate_limit("create", 50, burst=5, hint=hint)
    async with client_for(slow_server) as client:
        results = await create_many(client, 120)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert len(slow_server.job_ids) == 120
    refused = throttled(slow_server)
    assert refused <= 40  # plain per-request retries: ~115 on the first wave alone
    assert len(slow_server.requests) == 120 + refused


@pytest.mark.parametrize("adaptive", [True, False])
async def test_a_cap_below_the_server_limit_gets_no_429_and_waits_use_no_retries(
    slow_server: FakeClassifyServer, adaptive: bool
) -> None:
    slow_server.set_rate_limit("create", 50, burst=1, hint="none")
    slow_server.set_rate_limit("list", 50, burst=1, hint="none")
    options = {"rate_limit": 25, "adaptive_throttling": adaptive, "max_retries": 0}
    async with client_for(slow_server, **options) as client:
        lists = [client.list_jobs(page_size=5).first_page() for _ in range(20)]
        results = await asyncio.gather(*lists, create_many(client, 30))
    assert all(not isinstance(r, BaseException) for r in results[-1])
    assert len(slow_server.job_ids) == 30
    assert throttled(slow_server, "create") == throttled(slow_server, "list") == 0
    assert len(slow_server.requests) == 50  # one attempt each, though most waited their turn


async def test_a_429_still_counts_as_a_failed_attempt(server: FakeClassifyServer) -> None:
    server.fail_next(429, count=2, headers={"retry-after-ms": "1"})
    async with client_for(server, max_retries=1) as client:
        with pytest.raises(RateLimitError):
            await client.create_job("dfl-1.pdf", CONFIG)
    assert len(server.requests) == 2


async def test_one_limiter_serves_every_task_of_a_client(slow_server: FakeClassifyServer) -> None:
    """The same herd, same server: with the shared limiter it queues; with per-request retries
    (each task on its own) it collides."""
    slow_server.set_rate_limit("create", 40, burst=2, hint="none")
    async with client_for(slow_server, max_retries=20) as client:
        shared = await create_many(client, 60)
    shared_429s = throttled(slow_server)
    slow_server.reset_stats()
    slow_server.set_rate_limit("create", 40, burst=2, hint="none")  # a full bucket again
    async with client_for(slow_server, max_retries=20, adaptive_throttling=False) as client:
        alone = await create_many(client, 60)
    alone_429s = throttled(slow_server)
    assert not any(isinstance(r, BaseException) for r in shared)
    assert not any(
        isinstance(r, BaseException) and not isinstance(r, RateLimitError) for r in alone
    )
    assert alone_429s >= 58  # the whole first wave but the burst
    assert shared_429s * 3 < alone_429s


async def test_slow_start_only_when_adaptive(slow_server: FakeClassifyServer) -> None:
    async with client_for(slow_server) as client:
        await asyncio.gather(*(client.list_jobs().first_page() for _ in range(INITIAL_WINDOW + 1)))
        assert slow_server.max_in_flight == INITIAL_WINDOW  # the last waited for a success
        await asyncio.gather(*(client.list_jobs().first_page() for _ in range(12)))
        assert slow_server.max_in_flight < 12  # the window grows by one per success
    slow_server.reset_stats()
    async with client_for(slow_server, adaptive_throttling=False) as client:
        await asyncio.gather(*(client.list_jobs().first_page() for _ in range(12)))
    assert slow_server.max_in_flight == 12


async def test_without_adaptive_throttling_each_request_retries_on_its_own(
    server: FakeClassifyServer,
) -> None:
    server.fail_next(429, count=10, headers={"Retry-After": "0"}, method="POST")
    async with client_for(server, adaptive_throttling=False, max_retries=1) as client:
        results = await create_many(client, 10)
    assert not any(isinstance(r, BaseException) for r in results)
    assert len(server.requests) == 20


async def test_retry_after_wins_for_the_request_it_came_with(server: FakeClassifyServer) -> None:
    server.fail_next(429, headers={"retry-after-ms": "300"})
    async with client_for(server) as client:
        await client.create_job("dfl-1.pdf", CONFIG)
    first, retry = server.requests
    assert retry.time - first.time >= 0.3


@pytest.mark.parametrize(("hint_ms", "paused"), [(1500, True), (400, False)])
async def test_a_long_hint_pauses_the_whole_call_kind(
    server: FakeClassifyServer, hint_ms: int, paused: bool
) -> None:
    (job_id,) = server.seed_jobs(1)
    server.fail_next(429, headers={"retry-after-ms": str(hint_ms)})
    async with client_for(server) as client:
        first = asyncio.create_task(client.get_job(job_id))
        while not server.requests:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # the 429 is in; the first call sleeps on its hint
        await client.get_job(job_id)
        await first
    refused, *others = server.requests
    later = min(request.time for request in others) - refused.time
    assert (later >= hint_ms / 1000) is paused


async def test_throttling_and_recovery_are_logged_once_each(
    slow_server: FakeClassifyServer, caplog: pytest.LogCaptureFixture
) -> None:
    slow_server.set_rate_limit("get", 10, burst=2, hint="none")
    (job_id,) = slow_server.seed_jobs(1)
    caplog.set_level(logging.INFO, logger="aio_classify")
    async with client_for(slow_server, max_retries=20, coalesce=False) as client:
        await asyncio.gather(*(client.get_job(job_id) for _ in range(30)))
        assert throttled(slow_server, "get") > 1
        slow_server.set_rate_limit("get", None)
        for _ in range(400):  # paced at the learned rate until it is back where it was cut
            if any("recovered" in record.getMessage() for record in caplog.records):
                break
            await client.get_job(job_id)
    messages = [r.getMessage() for r in caplog.records if "'get' calls" in r.getMessage()]
    assert len(messages) >= 2
    assert "throttled" in messages[0]
    assert "recovered" in messages[-1]
    changes = ["throttled" in m for m in messages]
    assert all(a != b for a, b in itertools.pairwise(changes))  # transitions only
    assert all(r.levelno == logging.INFO and r.name == "aio_classify" for r in caplog.records)


def test_a_limiter_works_from_one_event_loop_after_another() -> None:
    limiter = AdaptiveLimiter("get", cap=None, adaptive=True)

    async def burst(count: int, outcome: Outcome) -> int:
        async def one() -> None:
            turn = await limiter.acquire()
            await asyncio.sleep(0.001)
            limiter.report(turn, outcome)

        await asyncio.gather(*(one() for _ in range(count)))
        return limiter.in_flight

    assert asyncio.run(burst(10, Outcome.SUCCESS)) == 0  # waiters queued behind the window
    assert asyncio.run(burst(3, Outcome.THROTTLED)) == 0
    assert limiter.rate is not None and limiter.window is None
    assert asyncio.run(burst(5, Outcome.SUCCESS)) == 0


async def test_a_cancelled_waiter_gives_up_its_place() -> None:
    limiter = AdaptiveLimiter("create", cap=20.0, adaptive=False)
    turns: list[float] = []

    async def one() -> None:
        turns.append(await limiter.acquire())
        limiter.report(turns[-1], Outcome.SUCCESS)

    tasks = [asyncio.create_task(one()) for _ in range(4)]
    await asyncio.sleep(0.01)  # the first went at once; the second sleeps on the pace
    tasks[1].cancel()  # the head of the line
    tasks[2].cancel()  # one waiting behind it
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [isinstance(r, asyncio.CancelledError) for r in results] == [False, True, True, False]
    assert len(turns) == 2
    assert turns[1] - turns[0] >= 1 / 20 - 1e-3  # the pace still holds for the last one
    assert limiter.in_flight == 0


async def test_a_call_cancelled_in_flight_gives_its_place_back(
    slow_server: FakeClassifyServer,
) -> None:
    slow_server.latency = 0.5
    async with client_for(slow_server) as client:
        calls = [asyncio.create_task(client.list_jobs().first_page()) for _ in range(4)]
        while slow_server.in_flight < INITIAL_WINDOW:
            await asyncio.sleep(0.01)
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        slow_server.latency = 0.0
        page = await asyncio.wait_for(client.list_jobs().first_page(), 5.0)
    assert page.items == ()


async def test_only_a_429_cuts_the_rate_once_per_congestion_event() -> None:
    limiter = AdaptiveLimiter("get", cap=None, adaptive=True)
    turn = await limiter.acquire()
    limiter.report(turn, Outcome.INCONCLUSIVE)  # a 5xx or no answer: nothing learned
    assert (limiter.window, limiter.rate) == (INITIAL_WINDOW, None)
    turn = await limiter.acquire()
    limiter.report(turn, Outcome.SUCCESS)
    assert limiter.window == INITIAL_WINDOW + 1
    first, second = await limiter.acquire(), await limiter.acquire()
    limiter.report(first, Outcome.THROTTLED)
    cut = limiter.rate
    limiter.report(second, Outcome.THROTTLED)  # sent before the cut: the same event
    assert cut is not None and limiter.rate == cut and limiter.window is None
    third = await limiter.acquire()
    limiter.report(third, Outcome.THROTTLED)  # sent after it: a new event
    assert limiter.rate is not None and limiter.rate < cut


class Recorder:
    """A limiter of our own, plugged in through the two-call interface."""

    def __init__(self) -> None:
        self.reports: list[tuple[Outcome, float | None]] = []

    async def acquire(self) -> float:
        return 1.0

    def report(self, turn: float, outcome: Outcome, retry_after: float | None = None) -> None:
        self.reports.append((outcome, retry_after))


@pytest.mark.parametrize(
    ("status", "headers", "outcome", "hint"),
    [
        (429, {"retry-after-ms": "250"}, Outcome.THROTTLED, 0.25),
        (429, {}, Outcome.THROTTLED, None),
        (404, {}, Outcome.SUCCESS, None),
        (503, {"Retry-After": "3"}, Outcome.INCONCLUSIVE, None),
    ],
)
async def test_in_turn_reports_what_each_answer_says_about_the_rate(
    server: FakeClassifyServer, status: int, headers: dict[str, str], outcome: Outcome, hint: Any
) -> None:
    server.fail_next(status, headers=headers)
    recorder = Recorder()
    async with client_for(server, max_retries=0) as client:
        with pytest.raises(ClassifyError):
            await in_turn(recorder, lambda: client.list_jobs().first_page())
        assert await in_turn(recorder, lambda: client.list_jobs().first_page())
    assert recorder.reports == [(outcome, hint), (Outcome.SUCCESS, None)]


# -- one client, several event loops at once (threads) ----------------------------------------


@pytest.mark.parametrize("round_number", range(3))
def test_one_client_used_from_two_event_loops_at_once_finishes_every_call(
    round_number: int,
) -> None:
    """The issue's case: 20 gets warm the client, then 60 gets on a worker thread's own loop
    while 80 run on the main loop. Before, the worker's gets often never finished (their
    futures were set from the main loop's thread, which does not wake the worker's loop) and the
    main loop's queued behind them for ever; a race, so it runs three times."""
    worker_done = threading.Event()
    outcome: dict[str, Any] = {}

    async def main() -> None:
        async with FakeClassifyServer(api_key=API_KEY) as server:
            ids = server.seed_jobs(20)
            async with client_for(server) as client:
                await asyncio.gather(*(client.get_job(job_id) for job_id in ids))

                def on_the_worker_thread() -> None:
                    async def sixty() -> list[Any]:
                        calls = (client.get_job(ids[n % 20]) for n in range(60))
                        return await asyncio.gather(*calls, return_exceptions=True)

                    try:
                        outcome["worker"] = asyncio.run(sixty())
                    finally:
                        worker_done.set()

                threading.Thread(target=on_the_worker_thread, daemon=True).start()
                calls = (client.get_job(ids[n % 20]) for n in range(80))
                async with asyncio.timeout(60):  # a guard against the wedge, not a timing
                    outcome["main"] = await asyncio.gather(*calls, return_exceptions=True)
                    while not worker_done.is_set():
                        await asyncio.sleep(0.01)

    asyncio.run(main())
    for side, count in (("main", 80), ("worker", 60)):
        results = outcome[side]
        assert len(results) == count
        assert all(isinstance(job, ClassifyJob) for job in results), [
            repr(result) for result in results if not isinstance(result, ClassifyJob)
        ][:3]


def test_a_limiter_shared_by_three_threads_loops_hands_turns_to_every_one() -> None:
    """Turns handed between loops in three threads (one limiter, its slow-start window full at
    first, so turns pass from loop to loop): every acquire gets its turn, none waits on another
    loop's future."""
    limiter = AdaptiveLimiter("get", cap=None, adaptive=True)
    finished: list[int] = []
    together = threading.Barrier(3)

    def thread_main(number: int) -> None:
        together.wait(30)

        async def many() -> int:
            async def one(index: int) -> None:
                turn = await limiter.acquire()
                await asyncio.sleep(0.001)
                limiter.report(turn, Outcome.SUCCESS if index % 7 else Outcome.INCONCLUSIVE)

            await asyncio.gather(*(one(index) for index in range(300)))
            return number

        finished.append(asyncio.run(many()))

    threads = [threading.Thread(target=thread_main, args=(n,), daemon=True) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)  # a guard against the wedge, not a timing
    assert sorted(finished) == [0, 1, 2]
    assert limiter.in_flight == 0


# -- bounded throttling waits ------------------------------------------------------------------


def test_a_call_waits_for_turns_at_most_max_throttle_wait_by_default() -> None:
    assert RetryPolicy().max_throttle_wait == 300.0
    assert RetryPolicy(max_throttle_wait=None).max_throttle_wait is None
    with pytest.raises(ValueError, match="max_throttle_wait"):
        RetryPolicy(max_throttle_wait=-1.0)


async def test_against_a_server_that_always_throttles_no_call_waits_unboundedly() -> None:
    """Every answer a 429 without a hint: the adaptive rate sinks to its floor, and without an
    allowance 30 gathered calls with 4 attempts each would queue for minutes (120 sends at
    0.5/s). Each call now gives up once it has waited ``max_throttle_wait`` for turns."""

    async def always_throttled(_: web.Request) -> web.Response:
        return web.json_response({"detail": "slow down"}, status=429)

    policy = RetryPolicy(
        max_retries=3, initial_backoff=0.001, max_backoff=0.001, jitter=0.0, max_throttle_wait=0.5
    )
    async with (
        scripted(always_throttled) as srv,
        ClassifyClient(API_KEY, base_url=srv.url, retry_policy=policy) as client,
    ):
        async with asyncio.timeout(120):  # a guard against the wedge, not a timing
            results = await asyncio.gather(
                *(client.get_job(f"cls-{n}") for n in range(30)), return_exceptions=True
            )
    assert all(isinstance(result, RateLimitError) for result in results)
    gave_up = [r for r in results if "max_throttle_wait" in str(r)]
    assert gave_up, "no call gave up waiting for a turn"
    assert all(r.should_retry is False for r in gave_up)
    assert len(srv.requests) < 30 * 4  # calls that gave up sent fewer than all their attempts
