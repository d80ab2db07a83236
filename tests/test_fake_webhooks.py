"""The fake's webhook deliveries (``aio_classify.testing._webhooks``) to a recording endpoint on
loopback: formats, headers, signature, event filter, retries, and the seeded faults."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web

from aio_classify import ClassifyClient, ClassifyConfiguration, ClassifyRule, WebhookConfiguration
from aio_classify.testing import FakeClassifyServer
from aio_classify.testing._webhooks import DeliveryFaults
from aio_classify.webhooks import parse_event, verify_signature

from helpers import API_KEY, WEBHOOK_SECRET, serve

FAST = (0.01, 0.02)


@attrs.define
class Endpoint:
    """Records what it receives; answers the scripted statuses first, then 204."""

    url: str = ""
    received: list[tuple[bytes, dict[str, str]]] = attrs.field(factory=list)
    script: list[int] = attrs.field(factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), dict(request.headers)))
        return web.Response(status=self.script.pop(0) if self.script else 204)

    def events(self) -> list[tuple[str, str, str]]:
        """(event id, type, job id) of each body received, in arrival order."""
        return [
            (e.event_id, e.event_type, e.job_id)
            for e in (parse_event(body) for body, _ in self.received)
        ]


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    recorder = Endpoint()
    app = web.Application()
    app.router.add_post("/hook", recorder.handle)
    async with serve(app) as url:
        recorder.url = f"{url}/hook"
        yield recorder


def create(server: FakeClassifyServer, url: str, **webhook: Any) -> str:
    config = {
        "webhook_url": url,
        "webhook_headers": None,
        "webhook_events": None,
        "webhook_output_format": None,
        "webhook_signing_secret": None,
    } | webhook
    job = server.create("dfl-1", configuration_id="cfg-1", webhook_configurations=[config])
    return job.key[1]


@pytest.mark.parametrize("output_format", ["string", "json", None])
async def test_a_delivery_carries_the_signed_event_and_its_headers(
    server: FakeClassifyServer, endpoint: Endpoint, output_format: str | None
) -> None:
    job_id = create(
        server,
        endpoint.url,
        webhook_output_format=output_format,
        webhook_signing_secret=WEBHOOK_SECRET,
        webhook_events=["classify.success"],
        webhook_headers={"X-Team": "docs"},
    )
    server.complete(job_id)
    await server.webhooks.wait_idle()
    ((body, headers),) = endpoint.received
    decoded = json.loads(body)
    assert isinstance(decoded, dict if output_format == "json" else str)
    event = parse_event(body)
    assert (event.event_type, event.job_id) == ("classify.success", job_id)
    assert event.data == {"id": job_id, "job_id": job_id}
    assert event.timestamp.timestamp() == pytest.approx(server.terminal_times()[job_id])
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Webhook-Event-ID"] == event.event_id
    assert headers["X-Webhook-Event-Type"] == "classify.success"
    assert headers["X-Team"] == "docs"
    assert verify_signature(body, headers["LC-Signature"], WEBHOOK_SECRET)
    assert not verify_signature(body, headers["LC-Signature"], "another-secret")
    assert [d.outcome for d in server.webhooks.deliveries] == ["delivered"]


async def test_without_a_secret_no_signature_and_without_a_webhook_no_delivery(
    server: FakeClassifyServer, endpoint: Endpoint
) -> None:
    job_id = create(server, endpoint.url, webhook_events=["classify.error"])
    plain = server.add_job(status="RUNNING")["id"]
    server.fail(job_id)
    server.complete(plain)
    await server.webhooks.wait_idle()
    ((_, headers),) = endpoint.received
    assert "LC-Signature" not in headers
    assert [e[1:] for e in endpoint.events()] == [("classify.error", job_id)]


async def test_every_state_change_is_announced_unless_filtered(
    server: FakeClassifyServer, endpoint: Endpoint
) -> None:
    everything = create(server, endpoint.url)
    only_end = create(server, endpoint.url, webhook_events=["classify.success", "classify.error"])
    for job_id in (everything, only_end):
        server.set_status(job_id, "RUNNING")
        server.complete(job_id)
        await server.webhooks.wait_idle()
    assert sorted(e[1:] for e in endpoint.events()) == sorted(
        [
            ("classify.pending", everything),
            ("classify.running", everything),
            ("classify.success", everything),
            ("classify.success", only_end),
        ]
    )
    assert len({e[0] for e in endpoint.events()}) == 4  # a fresh event id each


async def test_jobs_created_and_cancelled_over_http_are_announced(
    server: FakeClassifyServer, endpoint: Endpoint
) -> None:
    hook = WebhookConfiguration(webhook_url=endpoint.url, webhook_output_format="json")
    rules = [ClassifyRule(type="invoice", description="An invoice with a total due")]
    async with ClassifyClient(API_KEY, base_url=server.url) as client:
        job = await client.create_job(
            "dfl-1", ClassifyConfiguration(rules=rules), webhook_configurations=[hook]
        )
        await client.cancel_job(job.id)
    await server.webhooks.wait_idle()
    assert [e[1:] for e in endpoint.events()] == [
        ("classify.pending", job.id),
        ("classify.cancelled", job.id),
    ]


async def test_a_failed_attempt_is_retried_up_to_three_attempts(
    server: FakeClassifyServer, endpoint: Endpoint
) -> None:
    assert server.webhooks.retry_delays == (1.0, 2.0)  # the service's pauses, by default
    server.webhooks.retry_delays = FAST
    endpoint.script = [500, 503]
    server.complete(create(server, endpoint.url, webhook_events=["classify.success"]))
    await server.webhooks.wait_idle()
    (delivery,) = server.webhooks.deliveries
    assert (delivery.outcome, delivery.statuses) == ("delivered", [500, 503, 204])
    assert len({body for body, _ in endpoint.received}) == 1  # the same body each time

    endpoint.script = [500, 502, 404, 204]
    server.complete(create(server, endpoint.url, webhook_events=["classify.success"]))
    await server.webhooks.wait_idle()
    assert (server.webhooks.deliveries[-1].outcome, server.webhooks.deliveries[-1].statuses) == (
        "failed",
        [500, 502, 404],
    )


async def test_an_unreachable_endpoint_fails_after_three_attempts(
    server: FakeClassifyServer,
) -> None:
    server.webhooks.retry_delays = FAST
    server.complete(create(server, "http://127.0.0.1:9/nothing-listens-here"))
    await server.webhooks.wait_idle()
    assert [(d.outcome, d.statuses) for d in server.webhooks.deliveries] == [
        ("failed", [0, 0, 0]),
        ("failed", [0, 0, 0]),
    ]


@pytest.mark.parametrize(
    "url", ["http://192.0.2.1/hook", "https://example.com/hook", "http://10.0.0.1:8080/hook"]
)
async def test_an_endpoint_off_this_machine_is_never_contacted(
    server: FakeClassifyServer, url: str
) -> None:
    server.webhooks.retry_delays = FAST
    server.complete(create(server, url))
    await server.webhooks.wait_idle()
    assert [(d.outcome, d.statuses) for d in server.webhooks.deliveries] == [
        ("refused", []),
        ("refused", []),
    ]


async def test_dropped_and_duplicated_deliveries(
    server: FakeClassifyServer, endpoint: Endpoint
) -> None:
    server.webhooks.faults = DeliveryFaults(drop=1.0)
    server.complete(create(server, endpoint.url))
    await server.webhooks.wait_idle()
    assert endpoint.received == []
    assert {d.outcome for d in server.webhooks.deliveries} == {"dropped"}

    server.webhooks.faults = DeliveryFaults(duplicate=1.0)
    job_id = create(server, endpoint.url, webhook_events=["classify.success"])
    server.complete(job_id)
    await server.webhooks.wait_idle()
    first, second = endpoint.received
    assert first == second  # the same event, id and signature included, twice
    assert server.webhooks.deliveries[-1].copies == 1


async def test_delayed_and_reordered_deliveries_all_arrive_in_another_order(
    server: FakeClassifyServer, endpoint: Endpoint
) -> None:
    server.webhooks.faults = DeliveryFaults(delay=0.3, reorder=0.3, delay_seconds=0.2, seed=7)
    ids = [create(server, endpoint.url, webhook_events=["classify.success"]) for _ in range(20)]
    for job_id in ids:
        server.complete(job_id)
    await server.webhooks.wait_idle()
    arrived = [job_id for _, _, job_id in endpoint.events()]
    assert sorted(arrived) == sorted(ids)
    assert arrived != ids


async def test_faults_are_seeded(server: FakeClassifyServer, endpoint: Endpoint) -> None:
    def run(seed: int) -> list[tuple[str, int]]:
        server.webhooks.faults = DeliveryFaults(drop=0.3, duplicate=0.3, seed=seed)
        ids = [create(server, endpoint.url, webhook_events=["classify.success"]) for _ in range(30)]
        for job_id in ids:
            server.complete(job_id)
        return [(d.outcome, d.copies) for d in server.webhooks.deliveries[-30:]]

    first = run(1)
    await server.webhooks.wait_idle()
    again = run(1)
    await server.webhooks.wait_idle()
    other = run(2)
    await server.webhooks.wait_idle()
    normalize = [(o if o == "dropped" else "sent", c) for o, c in first]
    assert normalize == [(o if o == "dropped" else "sent", c) for o, c in again]
    assert normalize != [(o if o == "dropped" else "sent", c) for o, c in other]
    assert {"dropped", "sent"} == {o for o, _ in normalize}


@pytest.mark.parametrize(
    "faults",
    [{"drop": 1.5}, {"duplicate": -0.1}, {"delay_seconds": float("inf")}],
)
def test_bad_fault_shares_are_refused(faults: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(faults))):
        DeliveryFaults(**faults)  # type: ignore[arg-type]


async def test_faults_and_counts_over_the_admin_api(
    server: FakeClassifyServer, endpoint: Endpoint, http: aiohttp.ClientSession
) -> None:
    body = {"drop": 1.0, "seed": 3, "retry_delays": [0.01]}
    async with http.post("/_fake/webhook-faults", json=body) as response:
        assert response.status == 200
        assert (await response.json())["drop"] == 1.0
    assert server.webhooks.retry_delays == (0.01,)
    job_id = create(server, endpoint.url)
    server.complete(job_id)
    async with http.get("/_fake/webhook-deliveries") as response:
        assert await response.json() == {
            "counts": {"dropped": 2},
            "dropped_job_ids": [job_id, job_id],
        }
    async with http.post("/_fake/webhook-faults", json={"drop": 2}) as response:
        assert response.status == 422
    assert server.requests == []  # admin calls are not counted
