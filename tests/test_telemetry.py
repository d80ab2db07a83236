"""What the client reports about itself (aio_classify._observe): spans and metrics recorded by the
OpenTelemetry SDK's in-memory exporter and reader (providers passed to the client, no global
set), and the log records of logger ``aio_classify``, against the fake over loopback."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from aio_classify import ClassifyClient, ConflictError, WebhookConfiguration
from aio_classify.testing import FakeClassifyServer
from aio_classify.testing._webhooks import event_body
from aio_classify.webhooks import WebhookReceiver, sign

from helpers import API_KEY, FAST_RETRIES, WEBHOOK_SECRET, child_env


class Recorded:
    """An SDK tracer and meter provider recording in memory, and what they recorded."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        spans = self.exporter.get_finished_spans()
        return [span for span in spans if name is None or span.name == name]

    def points(self, metric: str) -> list[Any]:
        """The data points of ``metric`` (each with ``.attributes``)."""
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                found += [p for m in scope.metrics if m.name == metric for p in m.data.data_points]
        return found

    def counts(self, metric: str, key: str) -> dict[Any, int]:
        """A counter's totals by the value of one attribute."""
        return {point.attributes[key]: point.value for point in self.points(metric)}

    def everything(self) -> str:
        """Every span and every metric, as the SDK exports them (JSON)."""
        spans = "\n".join(span.to_json() for span in self.spans())
        data = self.reader.get_metrics_data()
        return spans + "\n" + (data.to_json() if data else "")


@pytest.fixture
def otel() -> Iterator[Recorded]:
    recorded = Recorded()
    yield recorded
    recorded.tracer_provider.shutdown()
    recorded.meter_provider.shutdown()


def recording_client(server: FakeClassifyServer, otel: Recorded, key: str) -> ClassifyClient:
    return ClassifyClient(
        key,
        base_url=server.url,
        retry_policy=FAST_RETRIES,
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
    )


@pytest.fixture
async def traced(server: FakeClassifyServer, otel: Recorded) -> AsyncIterator[ClassifyClient]:
    async with recording_client(server, otel, API_KEY) as client:
        yield client


def children(otel: Recorded, parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [
        span
        for span in otel.spans()
        if span.parent is not None and span.parent.span_id == parent.context.span_id
    ]


async def test_a_listing_with_a_retry(
    server: FakeClassifyServer, traced: ClassifyClient, otel: Recorded
) -> None:
    server.seed_jobs(5)
    server.fail_next(503, headers={"x-request-id": "req-503"})
    jobs = [job async for job in traced.list_jobs(page_size=2)]
    assert len(jobs) == 5

    pages = otel.spans("aio_classify list_jobs")
    assert [page.attributes["aio_classify.jobs.returned"] for page in pages] == [2, 2, 1]
    assert {page.kind for page in pages} == {SpanKind.INTERNAL}
    assert {page.attributes["aio_classify.call_kind"] for page in pages} == {"list"}
    first, retried = children(otel, pages[0])
    assert first.name == retried.name == "GET" and first.kind is SpanKind.CLIENT
    assert first.attributes["http.response.status_code"] == 503
    assert first.attributes["error.type"] == "503"
    assert first.attributes["aio_classify.request_id"] == "req-503"
    assert first.status.status_code is StatusCode.ERROR
    assert "http.request.resend_count" not in first.attributes
    assert retried.attributes["http.request.resend_count"] == 1
    assert retried.attributes["http.response.status_code"] == 200
    assert "error.type" not in retried.attributes
    assert retried.attributes["http.request.method"] == "GET"
    assert retried.attributes["server.address"] == "127.0.0.1"
    assert retried.attributes["server.port"] == int(server.url.rsplit(":", 1)[1])
    assert retried.attributes["url.full"] == f"{server.url}/api/v2/classify?page_size=2"
    assert [len(children(otel, page)) for page in pages] == [2, 1, 1]

    # Each request carried the traceparent of its own attempt's span.
    sent = [request.headers["traceparent"].split("-")[1:3] for request in server.requests]
    attempts = otel.spans("GET")
    assert sent == [[f"{s.context.trace_id:032x}", f"{s.context.span_id:016x}"] for s in attempts]

    durations = otel.points("http.client.request.duration")
    by_status = {p.attributes["http.response.status_code"]: p.count for p in durations}
    assert by_status == {503: 1, 200: 3}
    assert all(p.attributes["server.address"] == "127.0.0.1" for p in durations)
    assert otel.counts("aio_classify.retries", "aio_classify.retry.reason") == {"503": 1}
    assert otel.counts("aio_classify.retries", "aio_classify.call_kind") == {"list": 1}


async def test_a_batched_lookup_is_one_span_over_its_batches(
    server: FakeClassifyServer, traced: ClassifyClient, otel: Recorded
) -> None:
    ids = server.seed_jobs(5)
    found = await traced.get_jobs([*ids, "cls-unknown"], batch_size=2, concurrency=2)
    assert list(found) == ids
    (lookup,) = otel.spans("aio_classify get_jobs")
    assert lookup.attributes["aio_classify.jobs.found"] == 5
    batches = children(otel, lookup)
    assert len(batches) == 3, [dict(span.attributes) for span in batches]
    assert {span.name for span in batches} == {"GET"}
    assert otel.spans("aio_classify list_jobs") == []  # its pages are not listings


async def test_a_wait_with_webhook_events(
    server: FakeClassifyServer, traced: ClassifyClient, otel: Recorded
) -> None:
    receiver = WebhookReceiver(WEBHOOK_SECRET, meter_provider=otel.meter_provider)
    ids = server.seed_jobs(3, statuses="RUNNING")
    wait = asyncio.create_task(traced.wait_for_jobs(ids, events=receiver, fallback_interval=60))
    while len(server.requests) < 1:
        await asyncio.sleep(0.01)
    server.complete(ids[0])
    server.fail(ids[1])
    server.set_status(ids[2], "CANCELLED")
    kinds = ["classify.success", "classify.error", "classify.cancelled"]
    for number, (job_id, kind) in enumerate(zip(ids, kinds, strict=True)):
        body = event_body(f"e{number}", kind, job_id, time.time(), "json")
        receiver.accept(body, {"LC-Signature": sign(body, WEBHOOK_SECRET)})
    receiver.accept(body, {"LC-Signature": sign(body, WEBHOOK_SECRET)})  # a repeat
    with pytest.raises(ValueError, match="LC-Signature does not match"):
        receiver.accept(body, {"LC-Signature": "sha256=0"})
    done = await wait
    assert [job.status for job in done.values()] == ["COMPLETED", "FAILED", "CANCELLED"]

    (whole,) = otel.spans("aio_classify wait_for_jobs")
    assert whole.attributes["aio_classify.jobs.requested"] == 3
    rounds = children(otel, whole)  # the first look at all three, then looks events prompted
    assert {span.name for span in rounds} == {"aio_classify watch round"}
    assert rounds[0].attributes["aio_classify.jobs.requested"] == 3
    assert all({span.name for span in children(otel, round_)} == {"GET"} for round_ in rounds)
    assert otel.counts("aio_classify.jobs.finished", "aio_classify.job.status") == {
        "COMPLETED": 1,
        "FAILED": 1,
        "CANCELLED": 1,
    }
    assert otel.counts("aio_classify.webhook.deliveries", "aio_classify.webhook.outcome") == {
        "accepted": 3,
        "duplicate": 1,
        "refused": 1,
    }


async def test_an_error_carries_its_request_id(
    server: FakeClassifyServer,
    traced: ClassifyClient,
    otel: Recorded,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (job_id,) = server.seed_jobs(1, statuses="COMPLETED")
    server.fail_next(409, headers={"x-request-id": "req-" + "9" * 500})
    caplog.set_level(logging.DEBUG, logger="aio_classify")
    with pytest.raises(ConflictError):
        await traced.delete_job(job_id)
    (call,) = otel.spans("aio_classify delete_job")
    assert call.status.status_code is StatusCode.ERROR
    assert call.events[0].name == "exception"  # the error, recorded on the logical call
    (attempt,) = children(otel, call)
    assert attempt.attributes["error.type"] == "409"
    request_id = attempt.attributes["aio_classify.request_id"]
    assert request_id.startswith("req-999") and len(request_id) == 128  # bounded
    (record,) = [r for r in caplog.records if r.name == "aio_classify"]
    assert record.levelno == logging.DEBUG
    assert record.getMessage().endswith(f" ms (request id {request_id})")
    fields = {key: getattr(record, key) for key in ("call_kind", "attempt", "status", "request_id")}
    assert fields == {
        "call_kind": "delete",
        "attempt": 1,
        "status": 409,
        "request_id": request_id,
    }


async def test_retries_and_throttling_are_logged_with_their_fields(
    server: FakeClassifyServer,
    traced: ClassifyClient,
    otel: Recorded,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (job_id,) = server.seed_jobs(1)
    server.fail_next(429, retry_after=0, headers={"x-request-id": "req-429"})
    caplog.set_level(logging.INFO, logger="aio_classify")
    await traced.get_job(job_id)
    records = [r for r in caplog.records if r.name == "aio_classify"]
    (retry,) = [r for r in records if r.getMessage().startswith("attempt 1 failed (")]
    (throttled,) = [r for r in records if "throttled by the server (429)" in r.getMessage()]
    assert (retry.call_kind, retry.attempt, retry.status, retry.request_id) == (
        "get",
        1,
        429,
        "req-429",
    )
    assert retry.elapsed >= 0
    assert throttled.call_kind == "get"
    assert otel.counts("aio_classify.throttled", "aio_classify.call_kind") == {"get": 1}
    waits = otel.points("aio_classify.throttle.wait")
    assert [(p.attributes["aio_classify.call_kind"], p.count) for p in waits] == [("get", 2)]


async def test_a_throttling_wait_is_a_span_of_its_own(
    server: FakeClassifyServer, otel: Recorded
) -> None:
    ids = server.seed_jobs(3)
    async with ClassifyClient(
        API_KEY,
        base_url=server.url,
        rate_limit={"get": 20.0},
        coalesce=False,  # three GETs, not one batched lookup
        tracer_provider=otel.tracer_provider,
    ) as client:
        await asyncio.gather(*(client.get_job(job_id) for job_id in ids))
    waits = otel.spans("aio_classify throttle wait")
    assert waits  # three gets at 20/s: the later ones wait for their turn
    calls = {span.context.span_id for span in otel.spans("aio_classify get_job")}
    assert all(span.parent is not None and span.parent.span_id in calls for span in waits)
    assert all(span.attributes["aio_classify.throttle.wait"] > 0 for span in waits)


async def test_no_key_bearer_or_webhook_secret_is_ever_recorded(
    server: FakeClassifyServer, otel: Recorded, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aio_classify")
    key = "sk-telemetry-secret-key"
    server.api_key = key
    receiver = WebhookReceiver(WEBHOOK_SECRET, meter_provider=otel.meter_provider)
    server.fail_next(503, headers={"x-request-id": f"echo {key}"})  # a server echoing the key
    async with recording_client(server, otel, key) as client:
        ids = server.seed_jobs(3, statuses="COMPLETED")
        await client.get_jobs(ids)
        await client.wait_for_jobs(ids, events=receiver)
        with pytest.raises(ConflictError):
            await client.delete_job(server.seed_jobs(1, statuses="RUNNING")[0])
        hook = WebhookConfiguration(
            webhook_url="https://hooks.example/x", webhook_signing_secret=WEBHOOK_SECRET
        )
        await client.create_job("dfl-1", configuration_id="cfg-1", webhook_configurations=[hook])
    body = event_body("e1", "classify.success", ids[0], time.time(), "json")
    receiver.accept(body, {"LC-Signature": sign(body, WEBHOOK_SECRET)})
    logged = "\n".join(json.dumps(vars(record), default=str) for record in caplog.records)
    exported = otel.everything()
    assert "aio_classify create_job" in exported and "attempt 1 failed" in logged
    assert "echo [redacted]" in exported
    for text in (exported, logged):
        for secret in (key, "Bearer", WEBHOOK_SECRET):
            assert secret not in text


async def run_child(script: str) -> str:
    """Run ``script`` in a fresh Python (the event loop stays free for the fake it talks to);
    its stripped stdout, once it has exited 0."""
    done = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await done.communicate()
    assert done.returncode == 0, err.decode()
    return out.decode().strip()


async def test_the_client_without_the_opentelemetry_package(server: FakeClassifyServer) -> None:
    """With ``opentelemetry`` unimportable, the client works and imports nothing of it."""
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.modules["opentelemetry"] = None  # "import opentelemetry" now fails
        from aio_classify import ClassifyClient
        from aio_classify.webhooks import WebhookReceiver

        async def main():
            async with ClassifyClient({API_KEY!r}, base_url={server.url!r}) as client:
                ids = [job.id async for job in client.list_jobs(limit=3)]
                assert len(ids) == 3, ids
                assert len(await client.get_jobs(ids)) == 3
            WebhookReceiver("s")

        asyncio.run(main())
        loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry."))
        print("loaded:", loaded)
        """
    )
    server.seed_jobs(3)
    out = await run_child(script)
    assert out == "loaded: []"
    assert len(server.requests) == 2


def test_providers_without_the_package_say_what_to_install() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["opentelemetry"] = None
        from aio_classify import ClassifyClient
        try:
            ClassifyClient("k", tracer_provider=object())
        except ImportError as exc:
            print(exc)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env=child_env(), capture_output=True, text=True, check=True
    ).stdout
    assert 'pip install "aio-classify[otel]"' in out


async def test_each_watch_round_is_a_span_over_its_batches(
    server: FakeClassifyServer, traced: ClassifyClient, otel: Recorded
) -> None:
    ids = server.seed_jobs(4, statuses="RUNNING")
    server.complete(ids[0])
    seen = []
    async for job in traced.watch_jobs(ids, poll_interval=0.01, max_interval=0.01, batch_size=2):
        seen.append(job.id)
        if len(seen) == 1:
            for job_id in ids[1:]:
                server.complete(job_id)
    assert sorted(seen) == sorted(ids)
    rounds = otel.spans("aio_classify watch round")
    assert len(rounds) >= 2
    for round_ in rounds:
        batches = children(otel, round_)
        assert [span.name for span in batches] == ["GET"] * len(batches)
        looked_at = round_.attributes["aio_classify.jobs.requested"]
        assert len(batches) == -(-looked_at // 2)
        assert round_.attributes["aio_classify.jobs.found"] == looked_at
    assert otel.counts("aio_classify.jobs.finished", "aio_classify.job.status") == {"COMPLETED": 4}


async def test_without_an_sdk_nothing_is_reported_until_one_is_set(
    server: FakeClassifyServer,
) -> None:
    """With the global providers still the API's proxies (no SDK configured), the client takes
    the logs-only path: no span, no ``traceparent`` (this is what keeps the API's cost near
    zero). Once an application sets a provider, the next call is traced, with no new client."""
    script = textwrap.dedent(
        f"""
        import asyncio
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from aio_classify import ClassifyClient

        async def main():
            async with ClassifyClient({API_KEY!r}, base_url={server.url!r}) as client:
                await client.list_jobs(limit=1).first_page()
                exporter = InMemorySpanExporter()
                provider = TracerProvider()
                provider.add_span_processor(SimpleSpanProcessor(exporter))
                trace.set_tracer_provider(provider)
                await client.list_jobs(limit=1).first_page()
                print(sorted(span.name for span in exporter.get_finished_spans()))

        asyncio.run(main())
        """
    )
    server.seed_jobs(1)
    out = await run_child(script)
    assert out == "['GET', 'aio_classify list_jobs']"
    before, after = server.requests
    assert "traceparent" not in before.headers
    assert "traceparent" in after.headers
