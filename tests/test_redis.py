"""aio_classify.redis against a real valkey-server (started by the fixtures in conftest.py):
a shared cap and a shared learned rate across clients that share nothing else, webhook events
reaching another receiver's waits, duplicates handled once, and every outage (killed,
restarted, frozen) costing no call and one WARNING. No mocks of Redis."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest
import redis.asyncio as aioredis
import redis_process
from test_webhooks import delivery

from aio_classify import ClassifyClient
from aio_classify._http.coordination import scope_of
from aio_classify.redis import RedisCoordinator
from aio_classify.testing import FakeClassifyServer
from aio_classify.webhooks import SHARED_MEMORY, WebhookReceiver

from helpers import API_KEY, CONFIG, FAST_RETRIES, WEBHOOK_SECRET


def namespace() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


async def raw(url: str) -> aioredis.Redis:
    return aioredis.Redis.from_url(url)


def rate_key(ns: str, server: FakeClassifyServer, kind: str = "create") -> str:
    return f"{ns}:rate:{scope_of(str(server.url), API_KEY)}:{kind}"


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 30.0) -> None:
    """Until ``check()`` holds; fails after ``within`` seconds (a bound, not a timing claim)."""
    async with asyncio.timeout(within):
        while not await check():
            await asyncio.sleep(0.05)


def throttled(server: FakeClassifyServer, kind: str = "create") -> int:
    return sum(1 for _, refused in server.rate_limits.log.get(kind, []) if refused)


async def create_many(client: ClassifyClient, count: int) -> list[str]:
    jobs = await asyncio.gather(*(client.create_job(f"dfl-{i}", CONFIG) for i in range(count)))
    return [job.id for job in jobs]


@pytest.fixture
async def clients(
    server: FakeClassifyServer, valkey_server: redis_process.ValkeyServer
) -> AsyncIterator[Callable[..., Awaitable[ClassifyClient]]]:
    """Clients that each own their coordinator (pool, limiters): they share only Redis."""
    async with AsyncExitStack() as stack:

        async def make(ns: str, url: str = valkey_server.url, **options: object) -> ClassifyClient:
            coordinator = await stack.enter_async_context(RedisCoordinator(url, namespace=ns))
            return await stack.enter_async_context(
                ClassifyClient(
                    API_KEY,
                    base_url=str(server.url),
                    retry_policy=FAST_RETRIES,
                    max_retries=20,
                    coordinator=coordinator,
                    **options,  # type: ignore[arg-type]
                )
            )

        yield make


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["", "localhost:6379", "http://127.0.0.1:6379", "redis://", "redis://h:99999999/0"]
)
def test_a_malformed_url_is_a_value_error(url: str) -> None:
    with pytest.raises(ValueError, match="url"):
        RedisCoordinator(url, namespace="ok")


@pytest.mark.parametrize("ns", ["", "my app", "tab\there", "x" * 101])
def test_a_bad_namespace_is_a_value_error(ns: str) -> None:
    with pytest.raises(ValueError, match="namespace"):
        RedisCoordinator("redis://127.0.0.1:6379/0", namespace=ns)


async def test_a_closed_coordinator_is_refused_at_construction_and_first_use(
    valkey_server: redis_process.ValkeyServer, server: FakeClassifyServer
) -> None:
    coordinator = RedisCoordinator(valkey_server.url, namespace=namespace())
    async with ClassifyClient(API_KEY, base_url=str(server.url), coordinator=coordinator) as live:
        receiver = WebhookReceiver(WEBHOOK_SECRET, coordinator=coordinator)
        await coordinator.close()
        with pytest.raises(RuntimeError, match="closed"):
            await asyncio.wait_for(live.create_job("dfl-1", CONFIG), 5)
        with pytest.raises(RuntimeError, match="closed"):
            receiver.subscribe({"cls-1"})
    with pytest.raises(RuntimeError, match="closed"):
        ClassifyClient(API_KEY, base_url=str(server.url), coordinator=coordinator)
    with pytest.raises(RuntimeError, match="closed"):
        WebhookReceiver(WEBHOOK_SECRET, coordinator=coordinator)


def test_the_coordinator_must_be_one() -> None:
    with pytest.raises(TypeError, match="coordinator"):
        ClassifyClient(API_KEY, coordinator="redis://127.0.0.1")  # type: ignore[arg-type]


# -- the shared limiter ----------------------------------------------------------------------


@pytest.mark.parametrize("shared", [True, False])
async def test_the_cap_holds_for_all_clients_together(
    server: FakeClassifyServer,
    valkey_server: redis_process.ValkeyServer,
    clients: Callable[..., Awaitable[ClassifyClient]],
    shared: bool,
) -> None:
    """Two clients capped at 12/s each against a server allowing 16/s: together within it only
    when they share the cap (the control shows the fake does refuse 24/s)."""
    server.set_rate_limit("create", 16, burst=2)
    cap = {"create": 12.0}
    if shared:
        ns = namespace()
        pair = [await clients(ns, rate_limit=cap, adaptive_throttling=False) for _ in range(2)]
    else:
        pair = [
            ClassifyClient(
                API_KEY,
                base_url=str(server.url),
                retry_policy=FAST_RETRIES,
                max_retries=20,
                rate_limit=cap,
                adaptive_throttling=False,
            )
            for _ in range(2)
        ]
    try:
        created = await asyncio.gather(*(create_many(client, 24) for client in pair))
    finally:
        if not shared:
            for client in pair:
                await client.close()
    assert sum(len(ids) for ids in created) == 48
    assert len(server.store.jobs) == 48
    assert (throttled(server) == 0) is shared


async def test_a_429_seen_by_one_client_is_learned_by_all_and_kept(
    server: FakeClassifyServer,
    valkey_server: redis_process.ValkeyServer,
    clients: Callable[..., Awaitable[ClassifyClient]],
) -> None:
    ns = namespace()
    first = await clients(ns)
    server.set_rate_limit("create", 10, burst=1)
    await create_many(first, 30)
    store = await raw(valkey_server.url)
    try:
        key = rate_key(ns, server)
        learned = await store.hget(key, "rate")
        assert learned is not None and 0 < float(learned) < 30
        assert 0 < await store.ttl(key) <= 600
        assert API_KEY not in "".join(k.decode() for k in await store.keys(f"{ns}:*"))
        # A client that shares nothing in-process with the first starts from the learned rate:
        # its turns come from the same state (no slow start: the window is not used again).
        second = await clients(ns)
        window_before = await store.hget(key, "win")
        refused_before = throttled(server)
        assert len(await create_many(second, 10)) == 10
        assert await store.hget(key, "win") == window_before
        assert throttled(server) - refused_before <= 3
    finally:
        await store.aclose()


# -- shared webhook events -------------------------------------------------------------------


async def listening(url: str, ns: str, count: int) -> None:
    store = await raw(url)
    try:

        async def enough() -> bool:
            numbers = await store.pubsub_numsub(f"{ns}:webhooks:events")
            return bool(numbers and numbers[0][1] >= count)

        await eventually(enough)
    finally:
        await store.aclose()


async def test_an_event_accepted_by_one_receiver_reaches_the_waits_of_another(
    valkey_server: redis_process.ValkeyServer,
) -> None:
    ns = namespace()
    async with (
        RedisCoordinator(valkey_server.url, namespace=ns) as here,
        RedisCoordinator(valkey_server.url, namespace=ns) as there,
    ):
        accepting = WebhookReceiver(WEBHOOK_SECRET, coordinator=here)
        waiting = WebhookReceiver(WEBHOOK_SECRET, coordinator=there)
        with waiting.subscribe({"cls-9"}) as subscription:
            await listening(valkey_server.url, ns, 1)
            event = accepting.accept(*delivery("evt-9", job_id="cls-9"))
            assert event is not None
            await accepting.flush()
            loop = asyncio.get_running_loop()
            got = await subscription.batch(until=loop.time() + 30, window=0.0, flush_at=1)
        assert got == ["cls-9"]


async def test_a_duplicate_delivered_to_two_receivers_is_handled_once(
    valkey_server: redis_process.ValkeyServer,
) -> None:
    ns = namespace()
    async with (
        RedisCoordinator(valkey_server.url, namespace=ns) as one,
        RedisCoordinator(valkey_server.url, namespace=ns) as two,
    ):
        first = WebhookReceiver(WEBHOOK_SECRET, coordinator=one)
        second = WebhookReceiver(WEBHOOK_SECRET, coordinator=two)
        loop = asyncio.get_running_loop()
        with first.subscribe({"cls-7"}) as a, second.subscribe({"cls-7"}) as b:
            await listening(valkey_server.url, ns, 2)
            first.accept(*delivery("evt-7", job_id="cls-7"))
            await first.flush()
            assert await a.batch(until=loop.time() + 30, window=0.0, flush_at=1) == ["cls-7"]
            assert await b.batch(until=loop.time() + 30, window=0.0, flush_at=1) == ["cls-7"]
            second.accept(*delivery("evt-7", job_id="cls-7"))  # new to this receiver
            await second.flush()
            assert await a.batch(until=loop.time() + 0.5, window=0.0, flush_at=1) == []
            assert await b.batch(until=loop.time() + 0.5, window=0.0, flush_at=1) == []
        store = await raw(valkey_server.url)
        try:
            keys = await store.keys(f"{ns}:webhooks:seen:*")
            assert len(keys) == 1
            assert await store.pttl(keys[0]) > (SHARED_MEMORY - 60) * 1000
        finally:
            await store.aclose()


async def test_events_fan_out_locally_while_redis_is_down(
    own_valkey: redis_process.ValkeyServer,
) -> None:
    async with RedisCoordinator(own_valkey.url, namespace=namespace()) as coordinator:
        receiver = WebhookReceiver(WEBHOOK_SECRET, coordinator=coordinator)
        own_valkey.kill()
        with receiver.subscribe({"cls-3"}) as subscription:
            receiver.accept(*delivery("evt-3", job_id="cls-3"))
            await receiver.flush()
            loop = asyncio.get_running_loop()
            got = await subscription.batch(until=loop.time() + 30, window=0.0, flush_at=1)
        assert got == ["cls-3"]


# -- outages ---------------------------------------------------------------------------------


def outage_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.levelno == logging.WARNING and "unavailable" in r.message
    ]


async def test_a_killed_and_restarted_server_costs_no_call_and_sharing_resumes(
    server: FakeClassifyServer,
    own_valkey: redis_process.ValkeyServer,
    clients: Callable[..., Awaitable[ClassifyClient]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="aio_classify")
    ns = namespace()
    server.set_rate_limit("create", 40, burst=5)
    pair = [await clients(ns, own_valkey.url) for _ in range(2)]
    running = asyncio.gather(*(create_many(client, 60) for client in pair))
    await asyncio.sleep(0.3)
    own_valkey.kill()
    await asyncio.sleep(1.0)
    own_valkey.start()
    created = await running
    assert sum(len(ids) for ids in created) == 120 == len(server.store.jobs)
    assert len(outage_warnings(caplog)) == 2  # one per coordinator (two "processes")
    store = await raw(own_valkey.url)
    try:  # the restarted server is empty: the state reappears only if sharing resumed

        async def shared_again() -> bool:
            await create_many(pair[0], 2)
            return bool(await store.exists(rate_key(ns, server)))

        await eventually(shared_again)
    finally:
        await store.aclose()
    assert len(outage_warnings(caplog)) == 2
    assert any("answers again" in r.message for r in caplog.records)


async def test_a_frozen_server_costs_no_call(
    server: FakeClassifyServer,
    own_valkey: redis_process.ValkeyServer,
    clients: Callable[..., Awaitable[ClassifyClient]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ns = namespace()
    client = await clients(ns, own_valkey.url)
    await create_many(client, 5)
    own_valkey.freeze()
    try:
        assert len(await asyncio.wait_for(create_many(client, 40), 60)) == 40
        await asyncio.sleep(2.0)
        assert len(await asyncio.wait_for(create_many(client, 10), 60)) == 10
    finally:
        own_valkey.thaw()
    assert len(server.store.jobs) == 55
    assert len(outage_warnings(caplog)) == 1


async def test_a_flushed_server_starts_the_shared_state_afresh(
    server: FakeClassifyServer,
    valkey_server: redis_process.ValkeyServer,
    clients: Callable[..., Awaitable[ClassifyClient]],
) -> None:
    ns = namespace()
    client = await clients(ns)
    await create_many(client, 5)
    store = await raw(valkey_server.url)
    try:
        await store.delete(rate_key(ns, server))
        await store.script_flush()
        assert len(await create_many(client, 5)) == 5
        assert await store.exists(rate_key(ns, server))
    finally:
        await store.aclose()
