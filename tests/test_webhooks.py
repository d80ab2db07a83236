"""``aio_classify.webhooks``: signatures, parsing, and the receiver behind a loopback server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime

import aiohttp
import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aio_classify.testing._webhooks import event_body
from aio_classify.webhooks import (
    MAX_BODY_BYTES,
    TOLERANCE,
    WebhookEvent,
    WebhookReceiver,
    WebhookSignatureError,
    parse_event,
    sign,
    verify_signature,
)

from helpers import WEBHOOK_SECRET

BODY = b'{"event_id": "e-1"}'
NOW = 1_790_000_000.0
DIGEST = hmac.new(b"k", BODY, hashlib.sha256).hexdigest()


def delivery(
    event_id: str = "evt-1",
    event_type: str = "classify.success",
    job_id: str = "cls-1",
    output_format: str | None = None,
    secret: str | None = WEBHOOK_SECRET,
    timestamp: float | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A body and headers as the service sends them (stamped now unless ``timestamp``)."""
    at = time.time() if timestamp is None else timestamp
    body = event_body(event_id, event_type, job_id, at, output_format)
    headers = {"Content-Type": "application/json", "X-Webhook-Event-ID": event_id}
    if secret is not None:
        headers["LC-Signature"] = sign(body, secret)
    return body, headers


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status


# -- verify_signature -------------------------------------------------------------------------


def test_signature_of_the_raw_body_is_accepted_in_either_case() -> None:
    assert sign(BODY, "k") == f"sha256={DIGEST}"
    assert verify_signature(BODY, f"sha256={DIGEST}", "k")
    assert verify_signature(BODY, f"sha256={DIGEST.upper()}", b"k")
    assert verify_signature(BODY.decode(), f" SHA256={DIGEST} ", "k")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        DIGEST,  # no scheme
        f"sha1={DIGEST}",
        f"sha256={DIGEST[:-1]}",
        f"sha256={DIGEST[:-1]}g",
        f"sha256={DIGEST}00",
        "sha256=\u00e9\u00e9",
        f"sha256={hmac.new(b'other', BODY, hashlib.sha256).hexdigest()}",
    ],
)
def test_a_wrong_or_malformed_signature_is_false(header: str | None) -> None:
    assert verify_signature(BODY, header, "k") is False


def test_the_signature_covers_every_byte_of_the_body() -> None:
    assert not verify_signature(BODY + b" ", f"sha256={DIGEST}", "k")


def test_bad_secret_or_body_types_are_errors() -> None:
    with pytest.raises(ValueError, match="secret"):
        verify_signature(BODY, f"sha256={DIGEST}", "")
    with pytest.raises(TypeError, match="body"):
        verify_signature(123, f"sha256={DIGEST}", "k")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="secret"):
        verify_signature(BODY, f"sha256={DIGEST}", None)  # type: ignore[arg-type]


# -- parse_event ------------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["string", "json", None])
def test_both_output_formats_give_the_same_event(output_format: str | None) -> None:
    body, headers = delivery(output_format=output_format, timestamp=1_790_000_000.5)
    event = parse_event(body, headers)
    assert event == WebhookEvent(
        event_id="evt-1",
        event_type="classify.success",
        job_id="cls-1",
        timestamp=datetime(2026, 9, 21, 14, 13, 20, 500000, tzinfo=UTC),
        data={"id": "cls-1", "job_id": "cls-1"},
    )
    assert event.timestamp.tzinfo is not None
    assert dict(event.data) == {"id": "cls-1", "job_id": "cls-1"}


@pytest.mark.parametrize("key", ["id", "job_id"])
def test_either_id_key_alone_names_the_job(key: str) -> None:
    body = {"event_id": "e", "event_type": "classify.error", "timestamp": 1, "data": {key: "cls-9"}}
    assert parse_event(json.dumps(body)).job_id == "cls-9"


def test_missing_event_id_and_type_are_read_from_the_headers() -> None:
    body = json.dumps({"timestamp": "2026-01-02T03:04:05Z", "data": {"job_id": "cls-2"}})
    headers = {"x-webhook-event-id": "from-header", "X-WEBHOOK-EVENT-TYPE": "classify.cancelled"}
    event = parse_event(body, headers)
    assert (event.event_id, event.event_type) == ("from-header", "classify.cancelled")
    assert event.timestamp == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert event.is_terminal


@pytest.mark.parametrize(
    ("event_type", "terminal"),
    [
        ("classify.success", True),
        ("classify.error", True),
        ("classify.cancelled", True),
        ("classify.partial_success", True),
        ("classify.pending", False),
        ("classify.running", False),
        ("parse.success", False),
    ],
)
def test_is_terminal(event_type: str, terminal: bool) -> None:
    body, headers = delivery(event_type=event_type)
    assert parse_event(body, headers).is_terminal is terminal


def test_an_event_is_frozen_and_its_data_read_only() -> None:
    event = parse_event(*delivery(timestamp=NOW))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.job_id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        event.data["job_id"] = "other"  # type: ignore[index]
    assert hash(event) == hash(parse_event(*delivery(timestamp=NOW)))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe garbage", "not JSON"),
        (b"[1, 2]", "JSON list"),
        (b'"just a string"', "not JSON"),
        (b'"[1]"', "JSON list"),
        (b"null", "JSON NoneType"),
        (b'{"event_id": "e", "event_type": "t", "timestamp": 1}', "'data'"),
        (b'{"event_id": "e", "event_type": "t", "timestamp": 1, "data": []}', "'data'"),
        (b'{"event_id": "e", "event_type": "t", "timestamp": 1, "data": {}}', "data.job_id"),
        (b'{"event_id": "e", "event_type": "t", "timestamp": 1, "data": {"id": 7}}', "job_id"),
        (b'{"event_id": "e", "event_type": "t", "timestamp": 1, "data": {"id": [1]}}', "job_id"),
        (
            b'{"event_id": "e", "event_type": "t", "timestamp": 1, "data": {"id": "a", '
            b'"job_id": "b"}}',
            "two different jobs",
        ),
        (b'{"event_type": "t", "timestamp": 1, "data": {"id": "a"}}', "'event_id'"),
        (b'{"event_id": "", "event_type": "t", "timestamp": 1, "data": {"id": "a"}}', "event_id"),
        (b'{"event_id": "e", "event_type": 5, "timestamp": 1, "data": {"id": "a"}}', "event_type"),
        (b'{"event_id": "e", "event_type": "t", "data": {"id": "a"}}', "timestamp"),
        (b'{"event_id": "e", "event_type": "t", "timestamp": true, "data": {"id": "a"}}', "Unix"),
        (b'{"event_id": "e", "event_type": "t", "timestamp": NaN, "data": {"id": "a"}}', "Unix"),
        (b'{"event_id": "e", "event_type": "t", "timestamp": 1e300, "data": {"id": "a"}}', "range"),
        (b'{"event_id": "e", "event_type": "t", "timestamp": "soon", "data": {"id": "a"}}', "soon"),
        (b"[" * 100_000, "bytes"),
        (b"[" * 60_000, "not JSON"),  # too deep for the parser: still a ValueError
    ],
)
def test_anything_but_an_event_is_a_value_error(body: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_event(body)


def test_error_messages_stay_short_and_escape_what_was_sent() -> None:
    hostile = b"\x1b[2J\x07" + b"A" * 100_000
    with pytest.raises(ValueError, match="not JSON") as raised:
        parse_event(hostile[:MAX_BODY_BYTES])
    message = str(raised.value)
    assert len(message) < 300
    assert "\x1b" not in message
    assert "\\x1b" in message
    long_id = {"event_id": "e", "event_type": "t", "timestamp": 1}
    long_id["data"] = {"id": "x" * 900, "job_id": "\x1by" * 450}  # type: ignore[assignment]
    with pytest.raises(ValueError, match="two different jobs") as raised:
        parse_event(json.dumps(long_id))
    assert len(str(raised.value)) < 400
    assert "\x1b" not in str(raised.value)


# -- WebhookReceiver.accept ------------------------------------------------------------------


def test_accept_returns_the_event_then_none_for_a_repeat(receiver: WebhookReceiver) -> None:
    body, headers = delivery()
    event = receiver.accept(body, headers)
    assert event is not None
    assert event.job_id == "cls-1"
    assert receiver.accept(body, headers) is None
    # The same event in the other output format is still the same event.
    assert receiver.accept(*delivery(output_format="json")) is None


def test_accept_refuses_unsigned_and_wrongly_signed_deliveries(receiver: WebhookReceiver) -> None:
    body, headers = delivery(secret=None)
    with pytest.raises(WebhookSignatureError, match="no LC-Signature"):
        receiver.accept(body, headers)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        receiver.accept(body, {**headers, "LC-Signature": sign(body, "not-the-secret")})
    assert issubclass(WebhookSignatureError, ValueError)
    # A refused delivery is not remembered: the genuine one is still accepted afterwards.
    assert receiver.accept(*delivery()) is not None


def test_without_a_secret_every_delivery_is_refused_by_default() -> None:
    receiver = WebhookReceiver()
    for body, headers in (delivery(secret=None), delivery(secret="anything")):
        with pytest.raises(WebhookSignatureError, match="allow_unsigned"):
            receiver.accept(body, headers)
    assert "refuses all" in repr(receiver)


def test_allow_unsigned_takes_unsigned_deliveries() -> None:
    receiver = WebhookReceiver(allow_unsigned=True)
    assert receiver.accept(*delivery(secret=None)) is not None
    assert receiver.accept(*delivery(event_id="evt-2", secret="anything")) is not None
    # No signature covers the timestamp: freshness is not checked.
    assert receiver.accept(*delivery(event_id="evt-3", secret=None, timestamp=1.0)) is not None


def test_a_delivery_signed_with_any_secret_of_a_rotation_is_accepted() -> None:
    receiver = WebhookReceiver(secret=["whsec_new", b"whsec_old"])
    assert receiver.accept(*delivery("e1", secret="whsec_new")) is not None
    assert receiver.accept(*delivery("e2", secret="whsec_old")) is not None
    with pytest.raises(WebhookSignatureError, match="does not match"):
        receiver.accept(*delivery("e3", secret="whsec_other"))
    assert "whsec" not in repr(receiver)


@given(offset=st.floats(min_value=-10 * TOLERANCE, max_value=10 * TOLERANCE))
def test_a_signed_delivery_is_accepted_only_within_tolerance(offset: float) -> None:
    receiver = WebhookReceiver(secret=WEBHOOK_SECRET, clock=lambda: NOW)
    body, headers = delivery(timestamp=NOW + offset)
    if abs(offset) <= TOLERANCE:
        assert receiver.accept(body, headers) is not None
    else:
        with pytest.raises(ValueError, match="stale") as raised:
            receiver.accept(body, headers)
        assert not isinstance(raised.value, WebhookSignatureError)
        # With the check turned off the same delivery is accepted.
        relaxed = WebhookReceiver(secret=WEBHOOK_SECRET, tolerance=None, clock=lambda: NOW)
        assert relaxed.accept(body, headers) is not None


def test_a_stale_delivery_is_not_remembered_as_seen() -> None:
    receiver = WebhookReceiver(secret=WEBHOOK_SECRET, tolerance=10.0)
    with pytest.raises(ValueError, match="old"):
        receiver.accept(*delivery("e1", timestamp=time.time() - 60))
    with pytest.raises(ValueError, match="in the future"):
        receiver.accept(*delivery("e1", timestamp=time.time() + 60))
    assert receiver.accept(*delivery("e1")) is not None


def test_a_header_event_id_naming_another_event_is_refused() -> None:
    body, headers = delivery("evt-1")
    with pytest.raises(ValueError, match="X-Webhook-Event-ID"):
        parse_event(body, {**headers, "X-Webhook-Event-ID": "evt-2"})
    with pytest.raises(ValueError, match="another event"):
        WebhookReceiver(secret=WEBHOOK_SECRET).accept(
            body, {**headers, "x-webhook-event-id": "evt-2"}
        )


def test_max_body_bytes_above_the_default_is_honoured_by_the_parser_too() -> None:
    event = json.loads(event_body("big", "classify.success", "cls-1", time.time(), "json"))
    event["data"]["padding"] = "x" * (3 * MAX_BODY_BYTES)
    body = json.dumps(event).encode()
    receiver = WebhookReceiver(secret=WEBHOOK_SECRET, max_body_bytes=4 * MAX_BODY_BYTES)
    accepted = receiver.accept(body, {"LC-Signature": sign(body, WEBHOOK_SECRET)})
    assert accepted is not None
    assert accepted.event_id == "big"
    assert parse_event(body, max_body_bytes=len(body)).event_id == "big"
    with pytest.raises(ValueError, match="bytes"):
        parse_event(body)  # the default limit still holds for a bare parse


def test_repeats_are_remembered_with_bounded_memory() -> None:
    receiver = WebhookReceiver(remember=3, allow_unsigned=True)
    for number in range(4):
        assert receiver.accept(*delivery(event_id=f"e{number}", secret=None)) is not None
    assert receiver.accept(*delivery(event_id="e3", secret=None)) is None
    assert receiver.accept(*delivery(event_id="e1", secret=None)) is None  # now most recent
    # e0 was the oldest and fell out: a replay that late is accepted again.
    assert receiver.accept(*delivery(event_id="e0", secret=None)) is not None
    assert receiver.accept(*delivery(event_id="e2", secret=None)) is not None  # e2 fell out


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"secret": ""}, ValueError),
        ({"secret": 5}, TypeError),
        ({"secret": []}, ValueError),
        ({"secret": ["ok", ""]}, ValueError),
        ({"secret": ["ok", 5]}, TypeError),
        ({"tolerance": 0}, ValueError),
        ({"tolerance": float("inf")}, ValueError),
        ({"tolerance": "300"}, TypeError),
        ({"allow_unsigned": "yes"}, TypeError),
        ({"body_timeout": 0}, ValueError),
        ({"remember": 0}, ValueError),
        ({"max_body_bytes": 0}, ValueError),
        ({"max_body_bytes": "1"}, TypeError),
    ],
)
def test_bad_receiver_arguments(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error, match=next(iter(kwargs))):
        WebhookReceiver(**kwargs)  # type: ignore[arg-type]


def test_accept_refuses_an_oversized_body_before_checking_anything() -> None:
    receiver = WebhookReceiver(secret="s", max_body_bytes=100)
    body = b" " * 101
    with pytest.raises(ValueError, match="101 bytes") as raised:
        receiver.accept(body, {"LC-Signature": sign(body, "s")})
    assert not isinstance(raised.value, WebhookSignatureError)


def test_repr_never_shows_the_secret(receiver: WebhookReceiver) -> None:
    assert WEBHOOK_SECRET not in repr(receiver)


# -- WebhookReceiver.handle over loopback HTTP ------------------------------------------------


async def test_handle_answers_204_for_new_and_repeated_events(hook_url: str) -> None:
    body, headers = delivery()
    assert await post(hook_url, body, headers) == 204
    assert await post(hook_url, body, headers) == 204


async def test_handle_answers_401_for_a_missing_or_wrong_signature(hook_url: str) -> None:
    body, headers = delivery(secret=None)
    assert await post(hook_url, body, headers) == 401
    assert await post(hook_url, body, {**headers, "LC-Signature": "sha256=00"}) == 401
    assert await post(hook_url, body, {**headers, "LC-Signature": sign(body, "x")}) == 401
    assert await post(hook_url, *delivery()) == 204  # then the genuine one goes through


@pytest.mark.parametrize(
    "receiver", [WebhookReceiver(secret=WEBHOOK_SECRET), WebhookReceiver(allow_unsigned=True)]
)
async def test_handle_answers_400_for_a_body_that_is_not_an_event(hook_url: str) -> None:
    for body in (b"", b"hello", b'{"event_id": "x"}', b"\xff" * 100, b'"{\\"a\\": 1}"'):
        headers = {"LC-Signature": sign(body, WEBHOOK_SECRET)}
        assert await post(hook_url, body, headers) == 400


async def test_handle_refuses_oversized_bodies_unread(hook_url: str) -> None:
    body = b" " * (MAX_BODY_BYTES + 1)
    headers = {"LC-Signature": sign(body, WEBHOOK_SECRET)}
    assert await post(hook_url, body, headers) == 413

    async def chunks() -> object:  # no Content-Length: counted while read
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b" " * 1024

    async with (
        aiohttp.ClientSession() as session,
        session.post(hook_url, data=chunks(), headers=headers) as response,
    ):
        assert response.status == 413
    assert await post(hook_url, *delivery()) == 204  # the server is still fine


@pytest.mark.parametrize("receiver", [WebhookReceiver()])
async def test_handle_refuses_every_delivery_without_a_secret(hook_url: str) -> None:
    assert await post(hook_url, *delivery(secret=None)) == 401
    assert await post(hook_url, *delivery(secret=WEBHOOK_SECRET)) == 401


async def test_handle_answers_400_for_a_stale_or_mismatched_delivery(hook_url: str) -> None:
    assert await post(hook_url, *delivery("old", timestamp=time.time() - 3600)) == 400
    assert await post(hook_url, *delivery("future", timestamp=time.time() + 3600)) == 400
    body, headers = delivery("evt-1")
    assert await post(hook_url, body, {**headers, "X-Webhook-Event-ID": "evt-2"}) == 400
    assert await post(hook_url, body, headers) == 204


@pytest.mark.parametrize(
    "receiver", [WebhookReceiver(secret=WEBHOOK_SECRET, max_body_bytes=4 * MAX_BODY_BYTES)]
)
async def test_handle_takes_bodies_up_to_a_raised_max_body_bytes(hook_url: str) -> None:
    event = json.loads(event_body("big", "classify.success", "cls-1", time.time(), "json"))
    event["data"]["padding"] = "x" * (3 * MAX_BODY_BYTES)
    body = json.dumps(event).encode()
    assert await post(hook_url, body, {"LC-Signature": sign(body, WEBHOOK_SECRET)}) == 204
    too_big = b" " * (4 * MAX_BODY_BYTES + 1)
    assert await post(hook_url, too_big, {"LC-Signature": sign(too_big, WEBHOOK_SECRET)}) == 413


@pytest.mark.parametrize("receiver", [WebhookReceiver(secret=WEBHOOK_SECRET, body_timeout=0.5)])
async def test_a_trickling_sender_gets_408_instead_of_holding_the_handler(hook_url: str) -> None:
    host, port = hook_url.removeprefix("http://").split("/")[0].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")

    async def trickle() -> None:  # a byte every 50 ms: minutes for the whole body
        while True:
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.05)

    sender = asyncio.create_task(trickle())
    try:
        async with asyncio.timeout(60):  # the test's own guard; the receiver answers far sooner
            status_line = await reader.readline()
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sender
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    assert status_line.split()[1] == b"408"
    assert await post(hook_url, *delivery()) == 204  # the server is still fine


async def test_a_body_cut_off_mid_way_does_not_reach_aiohttp(
    hook_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    host, port = hook_url.removeprefix("http://").split("/")[0].split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n"
        b'Content-Type: application/json\r\n\r\n{"event_id": '
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    assert await post(hook_url, *delivery()) == 204
    assert [r.getMessage() for r in caplog.records if r.name.startswith("aiohttp")] == []


# -- fan-out to subscriptions ----------------------------------------------------------------


async def test_every_subscription_gets_the_terminal_events_it_wants(
    receiver: WebhookReceiver,
) -> None:
    loop = asyncio.get_running_loop()
    with receiver.subscribe({"cls-1", "cls-2"}) as both, receiver.subscribe({"cls-2"}) as two:
        receiver.accept(*delivery("e1", job_id="cls-1"))
        receiver.accept(*delivery("e2", job_id="cls-2"))
        receiver.accept(*delivery("e3", job_id="cls-3"))  # nobody watches it
        receiver.accept(*delivery("e4", "classify.running", job_id="cls-2"))
        soon = loop.time() + 5
        assert await both.batch(until=soon, window=0, flush_at=1) == ["cls-1", "cls-2"]
        assert await two.batch(until=soon, window=0, flush_at=1) == ["cls-2"]
        assert await two.batch(until=loop.time(), window=0, flush_at=1) == []
    assert "0 subscription(s)" in repr(receiver)


async def test_deliveries_accepted_on_another_thread_reach_the_wait(
    receiver: WebhookReceiver,
) -> None:
    loop = asyncio.get_running_loop()
    with receiver.subscribe({"cls-1"}) as inbox:
        thread = threading.Thread(target=receiver.accept, args=delivery())
        thread.start()
        ids = await inbox.batch(until=loop.time() + 30, window=0, flush_at=1)
        thread.join()
    assert ids == ["cls-1"]


def test_one_receiver_serves_one_event_loop_after_another() -> None:
    receiver = WebhookReceiver(secret=WEBHOOK_SECRET)  # made outside any loop

    async def one_wait(number: int) -> list[str]:
        loop = asyncio.get_running_loop()
        with receiver.subscribe({f"cls-{number}"}) as inbox:
            loop.call_soon(receiver.accept, *delivery(f"e{number}", job_id=f"cls-{number}"))
            return await inbox.batch(until=loop.time() + 30, window=0.01, flush_at=5)

    assert asyncio.run(one_wait(1)) == ["cls-1"]
    assert asyncio.run(one_wait(2)) == ["cls-2"]


class Broken:
    """A container that fails: stands for a bug behind the receiver."""

    def __contains__(self, item: object) -> bool:
        raise RuntimeError("broken on purpose")


async def test_an_error_of_ours_is_a_500_not_an_exception_in_aiohttp(
    receiver: WebhookReceiver, hook_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with receiver.subscribe(Broken()):
        assert await post(hook_url, *delivery()) == 500
    assert [r.getMessage() for r in caplog.records if r.name.startswith("aiohttp")] == []
    assert "the webhook receiver failed on a delivery" in caplog.text
    with receiver.subscribe({"cls-1"}) as inbox:  # the service's retry is not a "repeat"
        assert await post(hook_url, *delivery()) == 204
        until = asyncio.get_running_loop().time() + 30
        assert await inbox.batch(until=until, window=0, flush_at=1) == ["cls-1"]
