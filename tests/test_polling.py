"""Polling (``wait_for_job``, ``wait_for_jobs``, ``watch_jobs``) against the fake server; then
waiting with webhook events (``events=receiver``): the fake delivers to a receiver served on
loopback, and crafted deliveries test what a late, early, repeated or foreign event can do
(nothing but prompt a lookup)."""

from __future__ import annotations

import asyncio
import inspect
import math
import time
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aio_classify import (
    ClassifyClient,
    JobFailedError,
    JobStatus,
    NotFoundError,
    PollingTimeoutError,
)
from aio_classify._jobs.polling import COALESCE_WINDOW, PollOptions
from aio_classify.testing import FakeClassifyServer, RecordedRequest
from aio_classify.testing._webhooks import DeliveryFaults, event_body
from aio_classify.webhooks import WebhookReceiver, sign

from helpers import API_KEY, FAST_RETRIES, WEBHOOK_SECRET, serve


def rounds(requests: list[RecordedRequest]) -> list[list[list[str]]]:
    """Lookups grouped into polling rounds: a round ends when an id is asked about again."""
    grouped: list[list[list[str]]] = []
    asked: set[str] = set()
    for request in sorted(requests, key=lambda r: r.time):
        ids = [value for key, value in request.query if key == "job_ids"]
        if not grouped or asked & set(ids):
            grouped.append([])
            asked = set()
        grouped[-1].append(ids)
        asked |= set(ids)
    return grouped


def test_interval_grows_from_poll_interval_to_max_interval() -> None:
    next_interval = PollOptions(poll_interval=1.0, max_interval=3.0, timeout=10.0).intervals()
    assert [next_interval() for _ in range(7)] == [
        1.0,
        1.25,
        1.5625,
        1.953125,
        2.44140625,
        3.0,
        3.0,
    ]


async def test_1000_jobs_over_several_rounds_cost_one_request_per_100_pending(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(1000, statuses="PENDING")
    server.finish_later(ids, within=0.8, seed=2, fail_ratio=0.1)
    done = await client.wait_for_jobs(ids, poll_interval=0.1, max_interval=0.2, timeout=10)
    assert list(done) == ids
    assert all(job.is_terminal for job in done.values())
    assert {job.status for job in done.values()} == {JobStatus.COMPLETED, JobStatus.FAILED}
    by_round = rounds(server.requests)
    assert len(by_round) >= 3
    assert sorted(i for batch in by_round[0] for i in batch) == sorted(ids)
    previous: set[str] = set(ids)
    for lookups in by_round:
        pending = [i for batch in lookups for i in batch]
        assert len(lookups) == math.ceil(len(pending) / 100)
        assert set(pending) <= previous  # only jobs not yet seen terminal are asked about
        previous = set(pending)
    assert len(server.requests) == sum(math.ceil(sum(map(len, r)) / 100) for r in by_round)


async def test_watch_jobs_yields_each_job_once_as_it_finishes(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(300, statuses="RUNNING")
    finished_already = server.seed_jobs(20, statuses="COMPLETED")
    server.finish_later(ids, within=0.5, seed=5)
    seen = []
    when: dict[str, float] = {}
    started = time.monotonic()
    async with aclosing(
        client.watch_jobs([*ids, *finished_already, *ids[:10]], poll_interval=0.3, max_interval=0.3)
    ) as jobs:
        async for job in jobs:
            assert job.is_terminal
            seen.append(job.id)
            when[job.id] = time.monotonic() - started
    assert sorted(seen) == sorted(ids + finished_already)
    # The first round is made at once, not after poll_interval.
    assert max(when[job_id] for job_id in finished_already) < 0.25


async def test_first_check_is_made_at_once(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    (done_id,) = server.seed_jobs(1, statuses="COMPLETED")
    started = time.monotonic()
    job = await client.wait_for_job(done_id, poll_interval=30, max_interval=30)
    jobs = await client.wait_for_jobs([done_id], poll_interval=30, max_interval=30)
    assert time.monotonic() - started < 1
    assert job.status == JobStatus.COMPLETED
    assert jobs == {done_id: job}
    assert len(server.requests) == 2


async def test_cancelled_job_ends_a_wait_at_once(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    job_id = server.add_job(status="RUNNING")["id"]
    loop = asyncio.get_running_loop()
    loop.call_later(0.1, server.set_status, job_id, "CANCELLED")
    started = time.monotonic()
    job = await client.wait_for_job(
        job_id, poll_interval=0.05, max_interval=0.05, raise_on_failure=False
    )
    assert job.status == JobStatus.CANCELLED
    assert time.monotonic() - started < 0.5
    with pytest.raises(JobFailedError) as failed:
        await client.wait_for_job(job_id)
    assert failed.value.job.status == JobStatus.CANCELLED
    done = await client.wait_for_jobs([job_id], timeout=5)
    assert done[job_id].status == JobStatus.CANCELLED


async def test_failed_job_raises_job_failed_error_with_the_record(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    job_id = server.add_job(status="PENDING")["id"]
    server.fail(job_id, message="bad scan")
    with pytest.raises(JobFailedError, match="bad scan") as failed:
        await client.wait_for_job(job_id)
    assert failed.value.job.id == job_id
    job = await client.wait_for_job(job_id, raise_on_failure=False)
    assert job.status == JobStatus.FAILED


async def test_timeout_carries_finished_and_pending(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    done = server.seed_jobs(3, statuses="COMPLETED")
    stuck = server.seed_jobs(2, statuses="PENDING")
    with pytest.raises(PollingTimeoutError) as timed_out:
        await client.wait_for_jobs([*done, *stuck], poll_interval=0.05, timeout=0.3)
    assert isinstance(timed_out.value, TimeoutError)
    assert set(timed_out.value.finished) == set(done)
    assert sorted(timed_out.value.pending) == sorted(stuck)
    with pytest.raises(PollingTimeoutError) as one:
        await client.wait_for_job(stuck[0], poll_interval=0.05, timeout=0.2)
    assert one.value.pending == [stuck[0]]
    assert one.value.finished == {}


async def test_timeout_cuts_a_slow_round(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    stuck = server.seed_jobs(2, statuses="PENDING")
    server.latency = 2.0
    started = time.monotonic()
    with pytest.raises(PollingTimeoutError):
        await client.wait_for_jobs(stuck, timeout=0.2)
    assert time.monotonic() - started < 1.0


async def test_unknown_ids_raise_not_found(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    known = server.seed_jobs(2, statuses="COMPLETED")
    with pytest.raises(NotFoundError):
        await client.wait_for_job("cls-unknown")
    with pytest.raises(NotFoundError, match="cls-unknown") as missing:
        await client.wait_for_jobs([*known, "cls-unknown"], timeout=5)
    assert missing.value.status_code == 404
    yielded: list[str] = []

    async def watch() -> None:
        async for job in client.watch_jobs([*known, "cls-unknown"]):
            yielded.append(job.id)

    with pytest.raises(NotFoundError):
        await watch()
    assert sorted(yielded) == sorted(known)  # what the round found is yielded first


async def test_breaking_out_of_watch_jobs_leaves_nothing_running(
    server: FakeClassifyServer, client: ClassifyClient
) -> None:
    ids = server.seed_jobs(500, statuses="PENDING")
    server.complete(ids[0])
    server.latency = 0.02
    async with aclosing(client.watch_jobs(ids, batch_size=10, concurrency=2)) as jobs:
        async for job in jobs:
            assert job.id == ids[0]
            break
    leftover = [
        t
        for t in asyncio.all_tasks()
        if getattr(t.get_coro(), "__qualname__", "").startswith("BatchLookup.")
    ]
    assert leftover == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"poll_interval": 0}, "poll_interval must be a positive number"),
        ({"poll_interval": -1.0}, "poll_interval must be a positive number"),
        ({"poll_interval": 2.0, "max_interval": 1.0}, r"max_interval \(1.0\) must not be below"),
        ({"timeout": 0}, "timeout must be a positive number"),
    ],
)
async def test_bad_polling_options_raise_before_any_request(
    server: FakeClassifyServer, client: ClassifyClient, kwargs: dict[str, float], message: str
) -> None:
    ids = server.seed_jobs(2)
    with pytest.raises(ValueError, match=message):
        await client.wait_for_job(ids[0], **kwargs)
    with pytest.raises(ValueError, match=message):
        await client.wait_for_jobs(ids, **kwargs)
    with pytest.raises(ValueError, match=message):
        client.watch_jobs(ids, **kwargs)
    with pytest.raises(ValueError, match="concurrency"):
        await client.wait_for_jobs(ids, concurrency=0)
    assert server.requests == []


# -- waiting with webhook events ------------------------------------------------------------


def hooked_jobs(server: FakeClassifyServer, hook_url: str, count: int, **webhook: Any) -> list[str]:
    """Jobs created on the fake with one webhook to ``hook_url`` (terminal events, signed)."""
    config = {
        "webhook_url": hook_url,
        "webhook_signing_secret": WEBHOOK_SECRET,
        "webhook_events": ["classify.success", "classify.error", "classify.cancelled"],
        "webhook_output_format": None,
        "webhook_headers": None,
    } | webhook
    jobs = [
        server.create("dfl-doc", configuration_id="cfg-1", webhook_configurations=[config])
        for _ in range(count)
    ]
    return [job.key[1] for job in jobs]


async def deliver(
    url: str, job_id: str, event_id: str, event_type: str = "classify.success"
) -> int:
    """One signed delivery made by hand, as the service would make it."""
    body = event_body(event_id, event_type, job_id, time.time(), None)
    headers = {"Content-Type": "application/json", "LC-Signature": sign(body, WEBHOOK_SECRET)}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status


def asked(server: FakeClassifyServer) -> list[list[str]]:
    """The ids each lookup request asked about, in order."""
    return [
        [value for key, value in request.query if key == "job_ids"]
        or [request.path.rsplit("/", 1)[-1]]
        for request in server.requests
        if request.method == "GET"
    ]


async def until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) until ``condition()``; the test's own pacing, not an assertion."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def test_events_make_lookups_of_just_the_jobs_they_name(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver, hook_url: str
) -> None:
    ids = hooked_jobs(server, hook_url, 3)
    (done,) = server.seed_jobs(1, statuses="COMPLETED")
    seen = []
    watch = client.watch_jobs([done, *ids], events=receiver, fallback_interval=60)
    async with aclosing(watch) as jobs:
        async for job in jobs:  # each job ends only after the previous one was seen
            seen.append(job.id)
            if job.id == done:  # the first round is over
                server.complete(ids[1])
            if job.id == ids[1]:
                server.fail(ids[2])
            if job.id == ids[2]:
                server.set_status(ids[0], "CANCELLED")
    assert seen == [done, ids[1], ids[2], ids[0]]
    lookups = asked(server)
    assert sorted(lookups[0]) == sorted([done, *ids])  # the first check, at once, of every id
    assert lookups[1:] == [[ids[1]], [ids[2]], [ids[0]]]  # no other round: fallback is 60 s
    assert [d.outcome for d in server.webhooks.deliveries] == ["delivered"] * 3


async def test_events_close_together_share_one_lookup(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver
) -> None:
    ids = server.seed_jobs(50, statuses="RUNNING")

    def all_finish_and_announce() -> None:
        for number, job_id in enumerate(ids):
            server.complete(job_id)
            body = event_body(f"e{number}", "classify.success", job_id, time.time(), "json")
            receiver.accept(body, {"LC-Signature": sign(body, WEBHOOK_SECRET)})

    async def watch() -> list[str]:
        jobs = client.watch_jobs(ids, batch_size=10, events=receiver, fallback_interval=60)
        return [job.id async for job in jobs]

    task = asyncio.create_task(watch())
    await until(lambda: len(server.requests) == 5 and server.in_flight == 0)
    all_finish_and_announce()  # all 50 events arrive before the wait looks at its inbox
    seen = await task
    assert sorted(seen) == sorted(ids)
    lookups = asked(server)
    assert len(lookups) == 10  # the first round: five requests of ten, all RUNNING then
    assert sorted(i for lookup in lookups[5:] for i in lookup) == sorted(ids)
    assert all(len(lookup) == 10 for lookup in lookups[5:])  # 50 events, 5 full batches


async def test_an_early_event_never_ends_a_wait(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver, hook_url: str
) -> None:
    job_id = server.add_job(status="RUNNING")["id"]
    other = server.add_job(status="RUNNING")["id"]
    watch = asyncio.create_task(
        client.wait_for_jobs([job_id, other], events=receiver, fallback_interval=60)
    )
    single = asyncio.create_task(client.wait_for_job(job_id, events=receiver, fallback_interval=60))
    await until(lambda: len(server.requests) == 2)  # both first checks made
    assert await deliver(hook_url, job_id, "early") == 204
    await until(lambda: len(server.requests) == 4)  # one lookup by each wait: RUNNING
    await until(lambda: len(server.requests) == 6)  # and one more each, a second later
    assert not watch.done()
    assert not single.done()
    server.complete(job_id)
    server.complete(other)  # no events: only a later event or the fallback can tell now
    assert await deliver(hook_url, job_id, "early") == 204  # a replay: dropped
    assert await deliver(hook_url, other, "late-but-true") == 204
    await until(lambda: len(server.requests) == 7)
    assert not single.done()  # one recheck per job only: it waits for an event again
    assert await deliver(hook_url, job_id, "second") == 204
    assert (await single).status == JobStatus.COMPLETED
    done = await watch
    assert {job.status for job in done.values()} == {JobStatus.COMPLETED}
    assert asked(server)[2:6] == [[job_id]] * 4


async def test_a_record_that_lags_its_event_is_looked_at_again_a_second_later(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver, hook_url: str
) -> None:
    job_id = server.add_job(status="RUNNING")["id"]
    watch = asyncio.create_task(
        client.wait_for_jobs([job_id], events=receiver, fallback_interval=60)
    )
    single = asyncio.create_task(client.wait_for_job(job_id, events=receiver, fallback_interval=60))
    await until(lambda: len(server.requests) == 2)
    assert await deliver(hook_url, job_id, "ahead-of-the-record") == 204
    await until(lambda: len(server.requests) == 4)  # both looked: still RUNNING
    server.complete(job_id)  # the record catches up; no further event comes
    assert (await single).status == JobStatus.COMPLETED
    assert (await watch)[job_id].status == JobStatus.COMPLETED
    assert asked(server)[2:] == [[job_id]] * 4  # the event's look, then the recheck, each


async def test_wait_for_job_with_events_still_raises_for_a_failed_job(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver, hook_url: str
) -> None:
    (job_id,) = hooked_jobs(server, hook_url, 1)
    asyncio.get_running_loop().call_later(0.05, server.fail, job_id, "bad scan")
    with pytest.raises(JobFailedError, match="bad scan"):
        await client.wait_for_job(job_id, events=receiver, fallback_interval=60)
    assert len(server.requests) == 2  # the first check, then one look prompted by the event


async def test_events_for_jobs_nobody_watches_cost_nothing(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver, hook_url: str
) -> None:
    watched = hooked_jobs(server, hook_url, 1)
    task = asyncio.create_task(client.wait_for_jobs(watched, events=receiver, fallback_interval=60))
    await until(lambda: len(server.requests) == 1)
    unwatched = server.add_job(status="COMPLETED")["id"]
    assert await deliver(hook_url, unwatched, "other-job") == 204
    assert await deliver(hook_url, "cls-the-service-never-made", "made-up") == 204
    assert await deliver(hook_url, watched[0], "not-terminal", "classify.running") == 204
    server.complete(watched[0])
    done = await task
    assert done[watched[0]].status == JobStatus.COMPLETED
    assert asked(server)[1:] == [watched]  # only the watched job's own event made a lookup


async def test_an_event_for_a_job_the_service_does_not_know_never_counts(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver, hook_url: str
) -> None:
    gone, kept = (server.add_job(status="RUNNING")["id"] for _ in range(2))
    watch = asyncio.create_task(
        client.wait_for_jobs([gone, kept], events=receiver, fallback_interval=0.5)
    )
    await until(lambda: len(server.requests) == 1)
    server.store.remove(gone)  # the service forgets it while it is waited for
    assert await deliver(hook_url, gone, "vanished") == 204
    await until(lambda: len(server.requests) == 2)
    assert not watch.done()  # the lookup found nothing: not finished, not an error yet
    with pytest.raises(NotFoundError, match=gone):
        await watch  # the next full round, as without events, says it is unknown
    assert asked(server)[1] == [gone]
    assert sorted(asked(server)[2]) == sorted([gone, kept])


async def test_lost_deliveries_are_caught_by_the_fallback_round(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver, hook_url: str
) -> None:
    server.webhooks.faults = DeliveryFaults(drop=1.0)
    ids = hooked_jobs(server, hook_url, 5)
    server.finish_later(ids, within=0.2)
    done = await client.wait_for_jobs(ids, events=receiver, fallback_interval=0.3, timeout=30)
    assert all(job.is_terminal for job in done.values())
    assert {d.outcome for d in server.webhooks.deliveries} == {"dropped"}
    assert all(sorted(lookup) == sorted(ids) for lookup in asked(server)[:1])


async def test_repeated_and_reordered_deliveries_yield_each_job_once(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver, hook_url: str
) -> None:
    server.webhooks.faults = DeliveryFaults(duplicate=1.0, reorder=0.5, delay_seconds=0.1, seed=3)
    ids = hooked_jobs(server, hook_url, 30, webhook_events=None)
    server.finish_later(ids, within=0.5, seed=4)
    seen = [
        job.id
        async for job in client.watch_jobs(ids, events=receiver, fallback_interval=60, timeout=30)
    ]
    assert sorted(seen) == sorted(ids)
    await server.webhooks.wait_idle()
    copies = [d for d in server.webhooks.deliveries if d.event_type == "classify.success"]
    assert len(copies) == 30
    assert all(d.copies == 1 for d in copies)


async def test_bad_deliveries_during_a_wait_crash_nothing(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver, hook_url: str
) -> None:
    ids = hooked_jobs(server, hook_url, 2)
    task = asyncio.create_task(client.wait_for_jobs(ids, events=receiver, fallback_interval=60))
    await until(lambda: len(server.requests) == 1)
    async with aiohttp.ClientSession() as session:
        for body, headers in [
            (b"not json", {}),
            (event_body("x", "classify.success", ids[0], 1.0, None), {}),  # unsigned
            (event_body("y", "classify.success", ids[0], 1.0, None), {"LC-Signature": "sha256=0"}),
            (b"[]", {"LC-Signature": sign(b"[]", WEBHOOK_SECRET)}),
        ]:
            async with session.post(hook_url, data=body, headers=headers) as response:
                assert response.status in {400, 401}
    assert len(server.requests) == 1  # none of them made a lookup
    for job_id in ids:
        server.complete(job_id)
    done = await task
    assert list(done) == ids


async def test_a_flood_of_events_makes_one_wait_look_a_few_times_not_hundreds(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver, hook_url: str
) -> None:
    """Signed but forged (or repeated) events naming a running job, as fast as they come: a
    single wait looks at once, then at most once per COALESCE_WINDOW, like a batch wait."""
    (job_id,) = hooked_jobs(server, hook_url, 1)
    task = asyncio.create_task(client.wait_for_job(job_id, events=receiver, fallback_interval=60))
    await until(lambda: len(server.requests) == 1 and server.in_flight == 0)
    loop = asyncio.get_running_loop()
    flood_started = loop.time()
    for number in range(300):
        body = event_body(f"forged-{number}", "classify.success", job_id, time.time(), None)
        receiver.accept(body, {"LC-Signature": sign(body, WEBHOOK_SECRET)})
        await asyncio.sleep(0.002)  # spread over the flood, so the wait runs between events
    flood_lasted = loop.time() - flood_started
    server.complete(job_id)
    body = event_body("genuine", "classify.success", job_id, time.time(), None)
    receiver.accept(body, {"LC-Signature": sign(body, WEBHOOK_SECRET)})
    assert (await task).status == JobStatus.COMPLETED
    looks = len(asked(server))
    # The first look, one per COALESCE_WINDOW of the flood (and its edges), the one that ends it.
    assert looks <= 1 + flood_lasted / COALESCE_WINDOW + 3, (looks, flood_lasted)


async def test_concurrent_waits_share_one_receiver(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver, hook_url: str
) -> None:
    ids = hooked_jobs(server, hook_url, 7)
    server.finish_later(ids, within=0.3, seed=9)

    async def watched(job_ids: list[str]) -> list[str]:
        return [j.id async for j in client.watch_jobs(job_ids, events=receiver, timeout=30)]

    one, two, three, four = await asyncio.gather(
        client.wait_for_jobs(ids[:3], events=receiver, timeout=30),
        watched(ids[2:6]),
        client.wait_for_job(ids[6], events=receiver, timeout=30),
        client.wait_for_job(ids[0], events=receiver, timeout=30),
    )
    assert list(one) == ids[:3]
    assert sorted(two) == sorted(ids[2:6])
    assert three.id == ids[6]
    assert four.id == ids[0]
    assert "0 subscription(s)" in repr(receiver)


def test_a_receiver_serves_waits_on_one_event_loop_after_another() -> None:
    receiver = WebhookReceiver(secret=WEBHOOK_SECRET)

    async def one_run() -> JobStatus | str:
        app = web.Application()
        app.router.add_post("/hooks", receiver.handle)
        async with (
            serve(app) as base_url,
            FakeClassifyServer(api_key=API_KEY) as server,
            ClassifyClient(API_KEY, base_url=server.url, retry_policy=FAST_RETRIES) as client,
        ):
            (job_id,) = hooked_jobs(server, f"{base_url}/hooks", 1)
            server.finish_later([job_id], within=0.1)
            job = await client.wait_for_job(job_id, events=receiver, fallback_interval=60)
            return job.status

    assert asyncio.run(one_run()) == JobStatus.COMPLETED
    assert asyncio.run(one_run()) == JobStatus.COMPLETED


async def test_timeout_with_events(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver
) -> None:
    stuck = server.seed_jobs(2, statuses="PENDING")
    with pytest.raises(PollingTimeoutError) as timed_out:
        await client.wait_for_jobs(stuck, events=receiver, timeout=0.2)
    assert sorted(timed_out.value.pending) == sorted(stuck)
    with pytest.raises(PollingTimeoutError):
        await client.wait_for_job(stuck[0], events=receiver, timeout=0.2)
    assert "0 subscription(s)" in repr(receiver)


async def test_breaking_out_of_a_watch_unsubscribes(
    server: FakeClassifyServer, client: ClassifyClient, receiver: WebhookReceiver
) -> None:
    ids = server.seed_jobs(3, statuses="COMPLETED")
    async with aclosing(client.watch_jobs(ids, events=receiver)) as jobs:
        async for _ in jobs:
            assert "1 subscription(s)" in repr(receiver)
            break
    assert "0 subscription(s)" in repr(receiver)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"events": "receiver"}, TypeError, "events must be a WebhookReceiver"),
        ({"events": object()}, TypeError, "events must be a WebhookReceiver"),
        ({"fallback_interval": 0}, ValueError, "fallback_interval must be a positive"),
        ({"fallback_interval": -1.0}, ValueError, "fallback_interval must be a positive"),
        ({"fallback_interval": float("nan")}, ValueError, "fallback_interval must be a positive"),
        ({"fallback_interval": float("inf")}, ValueError, "fallback_interval must be a positive"),
        ({"fallback_interval": "30"}, TypeError, "fallback_interval must be a number"),
    ],
)
async def test_bad_event_options_raise_before_any_request(
    server: FakeClassifyServer,
    client: ClassifyClient,
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    ids = server.seed_jobs(2)
    with pytest.raises(error, match=message):
        await client.wait_for_job(ids[0], **kwargs)
    with pytest.raises(error, match=message):
        await client.wait_for_jobs(ids, **kwargs)
    with pytest.raises(error, match=message):
        client.watch_jobs(ids, **kwargs)
    assert server.requests == []


# -- the default schedule: a lone wait against the official SDK's ------------------------------


def first_looks(next_sleep: Callable[[], float], horizon: float = 120.0) -> list[float]:
    """When the polls happen: at once, then after each sleep."""
    looks = [0.0]
    while looks[-1] < horizon:
        looks.append(looks[-1] + next_sleep())
    return looks


def sdk_looks(horizon: float = 120.0) -> list[float]:
    """``wait_for_completion``'s defaults in llama-cloud 2.19: sleep 1 s first, then one second
    more each time (linear), at most 5 s."""
    looks, sleep = [1.0], 1.0
    while looks[-1] < horizon:
        sleep = min(sleep + 1.0, 5.0)
        looks.append(looks[-1] + sleep)
    return looks


def mean_delay(looks: list[float], low: float, high: float) -> tuple[float, float]:
    """(seconds between the end and the first look after it, looks made), averaged over jobs
    ending at moments spread evenly between ``low`` and ``high`` seconds."""
    ends = [low + (high - low) * step / 1000 for step in range(1000)]
    seen = [next(look for look in looks if look >= end) for end in ends]
    delay = sum(s - e for s, e in zip(seen, ends, strict=True)) / len(ends)
    return delay, sum(sum(look <= s for look in looks) for s in seen) / len(ends)


def test_a_lone_wait_by_default_sees_a_job_end_no_later_than_the_official_sdk() -> None:
    defaults = inspect.signature(ClassifyClient.wait_for_job).parameters
    options = PollOptions.checked(
        defaults["poll_interval"].default, defaults["max_interval"].default, 7200.0
    )
    ours, theirs = first_looks(options.intervals()), sdk_looks()
    for low, high in ((1.0, 10.0), (1.0, 60.0)):  # jobs of a few seconds; of the first minute
        our_delay, our_looks = mean_delay(ours, low, high)
        sdk_delay, sdk_looks_made = mean_delay(theirs, low, high)
        assert our_delay <= sdk_delay, (low, high)
        assert our_looks <= sdk_looks_made + 3  # for at most a few requests more
