"""A hostile server cannot hang the client, grow it without bound, crash it with an exception
outside ``ClassifyError``, or make it leak the API key: tiny loopback servers answer exactly the
bytes and headers each attack needs."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging

import pytest
from aiohttp import web

from aio_classify import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ClassifyClient,
    InternalServerError,
    JobFailedError,
    NotFoundError,
    ResponseValidationError,
    RetryPolicy,
    UnprocessableEntityError,
)

from helpers import FAST_RETRIES, SCRIPTED_KEY, answers, job, json_body, raw, scripted

#: Every test here must end: a client that hangs fails the test instead of the run.
DEADLINE = 20.0


def client_for(url: str, **options: object) -> ClassifyClient:
    return ClassifyClient(SCRIPTED_KEY, base_url=url, retry_policy=FAST_RETRIES, **options)  # type: ignore[arg-type]


async def get(url: str, job_id: str = "cls-1", **options: object) -> object:
    async with asyncio.timeout(DEADLINE), client_for(url, **options) as client:
        return await client.get_job(job_id)


# -- 1. every wait is finite ------------------------------------------------------------------


@pytest.mark.parametrize(
    "hint",
    [
        {"Retry-After": "NaN"},
        {"Retry-After": "nan"},
        {"Retry-After": "inf"},
        {"Retry-After": "1e999"},
        {"retry-after-ms": "nan"},
        {"retry-after-ms": "Infinity"},
        {"Retry-After": "86400"},  # a day: capped by max_retry_after below
    ],
)
async def test_a_retry_hint_that_is_not_a_finite_number_never_hangs(hint: dict[str, str]) -> None:
    # The policy's cap on hints (0.1 s here) is what bounds the day-long one.
    policy = RetryPolicy(initial_backoff=0.01, max_backoff=0.05, jitter=0.0, max_retry_after=0.1)
    async with scripted(answers(json_body({"detail": "busy"}, 503, hint), json_body(job()))) as srv:
        async with asyncio.timeout(DEADLINE):
            async with ClassifyClient(
                SCRIPTED_KEY, base_url=srv.url, retry_policy=policy
            ) as client:
                found = await client.get_job("cls-1")
    assert found.id == "cls-1"
    assert len(srv.requests) == 2


# -- 2. bounded memory: max_response_bytes ----------------------------------------------------


async def test_a_body_over_max_response_bytes_is_refused_and_not_retried() -> None:
    body = json.dumps(job(error_message="x" * 5000)).encode()
    async with scripted(answers(raw(body))) as srv:
        with pytest.raises(ResponseValidationError, match="max_response_bytes=1000"):
            await get(srv.url, max_response_bytes=1000)
    assert len(srv.requests) == 1


async def test_a_body_of_exactly_max_response_bytes_is_read() -> None:
    body = json.dumps(job()).encode()
    body += b" " * (1000 - len(body))
    async with scripted(answers(raw(body))) as srv:
        found = await get(srv.url, max_response_bytes=1000)
    assert found.id == "cls-1"  # type: ignore[attr-defined]


async def test_the_cap_counts_bytes_after_decompression() -> None:
    inflated = json.dumps(job(error_message=" " * 200_000)).encode()
    compressed = gzip.compress(inflated)
    assert len(compressed) < 10_000 < len(inflated)
    headers = {"Content-Encoding": "gzip"}
    async with scripted(answers(raw(compressed, headers=headers))) as srv:
        with pytest.raises(ResponseValidationError, match="after decompression"):
            await get(srv.url, max_response_bytes=10_000)


async def test_an_endless_body_is_cut_off_and_its_connection_closed() -> None:
    disconnected = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        try:
            await response.write(b'{"id": "')
            while True:
                await response.write(b"a" * 65536)
        except (ConnectionError, RuntimeError):
            disconnected.set()
        return response

    async with scripted(endless) as srv:
        with pytest.raises(ResponseValidationError):
            await get(srv.url, max_response_bytes=2**20)
        async with asyncio.timeout(DEADLINE):
            await disconnected.wait()  # the client closed the connection instead of draining it


async def test_an_error_body_of_any_size_keeps_its_status() -> None:
    body = json.dumps({"detail": "nope " * 1_000_000}).encode()  # 5 MB
    async with scripted(answers(raw(body, 404))) as srv:
        with pytest.raises(NotFoundError) as caught:
            await get(srv.url)
    assert len(str(caught.value)) < 1100


@pytest.mark.parametrize("value", [0, -1, 1.5, "32MB", True])
def test_max_response_bytes_must_be_a_positive_int(value: object) -> None:
    with pytest.raises((TypeError, ValueError), match="max_response_bytes"):
        ClassifyClient(SCRIPTED_KEY, max_response_bytes=value)  # type: ignore[arg-type]


# -- 3. decoding: only ClassifyError, no coercion ---------------------------------------------


async def test_deeply_nested_json_is_a_validation_error() -> None:
    body = b'{"id": "cls-1", "status": "COMPLETED", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    async with scripted(answers(raw(body))) as srv:
        with pytest.raises(ResponseValidationError, match="not JSON"):
            await get(srv.url)


async def test_deeply_nested_json_in_an_error_body_keeps_the_status_error() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    async with scripted(answers(raw(body, 404))) as srv:
        with pytest.raises(NotFoundError):
            await get(srv.url)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
async def test_nan_and_infinity_are_not_json(constant: bytes) -> None:
    body = b'{"id": "cls-1", "status": "COMPLETED", "result": {"confidence": ' + constant + b"}}"
    async with scripted(answers(raw(body))) as srv:
        with pytest.raises(ResponseValidationError, match="not JSON"):
            await get(srv.url)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id": None}, "id"),
        ({"id": 12345}, "id"),
        ({"id": ["cls-1"]}, "id"),
        ({"status": None}, "status"),
        ({"status": 3}, "status"),
        ({"result": {"confidence": "0.9"}}, "result.confidence"),
        ({"result": {"confidence": True}}, "result.confidence"),
        ({"result": []}, "result"),
        ({"result": "COMPLETED"}, "result"),
        ({"created_at": 1700000000}, "created_at"),
        ({"configuration": {"rules": "abc"}}, "configuration.rules"),
        (
            {"configuration": {"rules": [{"type": "a", "description": 7}]}},
            "configuration.rules[0].description",
        ),
        ({"usage": {"credits": "12"}}, "usage.credits"),
        ({"error_message": {"a": 1}}, "error_message"),
        ({"project_id": "\ud800"}, "project_id"),
    ],
)
async def test_a_field_of_the_wrong_type_is_refused_by_name(
    fields: dict[str, object], field: str
) -> None:
    async with scripted(answers(json_body({**job(), **fields}))) as srv:
        with pytest.raises(ResponseValidationError) as caught:
            await get(srv.url)
    assert caught.value.field == field
    assert repr(field) in str(caught.value)


@pytest.mark.parametrize("token", [True, {}, [], 5, {"a": "b"}])
async def test_a_page_token_that_is_not_a_string_is_refused(token: object) -> None:
    page = {"items": [job()], "next_page_token": token}
    async with (
        scripted(answers(json_body(page))) as srv,
        asyncio.timeout(DEADLINE),
        client_for(srv.url) as client,
    ):
        with pytest.raises(ResponseValidationError) as caught:
            _ = [found async for found in client.list_jobs()]
    assert caught.value.field == "next_page_token"
    assert len(srv.requests) == 1


async def test_a_bad_job_inside_a_page_is_named_by_its_position() -> None:
    page = {"items": [job("a"), job("b"), {"id": 3, "status": "PENDING"}], "next_page_token": None}
    async with (
        scripted(answers(json_body(page))) as srv,
        asyncio.timeout(DEADLINE),
        client_for(srv.url) as client,
    ):
        with pytest.raises(ResponseValidationError) as caught:
            await client.list_jobs().first_page()
    assert caught.value.field == "items[2].id"


async def test_a_huge_bad_value_shows_only_a_short_excerpt() -> None:
    async with scripted(answers(json_body(job(job_id=["x" * 1_000_000] * 5)))) as srv:  # type: ignore[arg-type]
        with pytest.raises(ResponseValidationError) as caught:
            await get(srv.url)
    assert caught.value.field == "id"
    assert len(str(caught.value)) < 1100


# -- 5. secrets ---------------------------------------------------------------------------------


async def echo_authorization(request: web.Request) -> web.Response:
    """A proxy that echoes the request's credentials back, in the body and in a header."""
    credential = request.headers.get("Authorization", "")
    return web.json_response(
        {"detail": f"bad token: {credential}", "echo": [credential]},
        status=401,
        headers={"X-Echo": credential},
    )


async def test_an_echoed_key_is_scrubbed_from_the_error() -> None:
    async with scripted(echo_authorization) as srv:
        with pytest.raises(AuthenticationError) as caught:
            await get(srv.url)
    error = caught.value
    assert "[redacted]" in str(error)
    for text in (str(error), repr(error), repr(error.body), repr(dict(error.headers))):
        assert SCRIPTED_KEY not in text


async def test_an_echoed_key_in_a_body_that_is_not_json_is_scrubbed() -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=f"<html>{request.headers['Authorization']}</html>")

    async with scripted(echo) as srv:
        with pytest.raises(ResponseValidationError) as caught:
            await get(srv.url)
    assert SCRIPTED_KEY not in str(caught.value)


async def test_an_echoed_key_never_reaches_the_retry_log(caplog: pytest.LogCaptureFixture) -> None:
    async def echo_503(request: web.Request) -> web.Response:
        return web.json_response({"detail": request.headers["Authorization"]}, status=503)

    caplog.set_level(logging.DEBUG, logger="aio_classify")
    async with scripted(echo_503) as srv:
        with pytest.raises(InternalServerError):
            await get(srv.url, max_retries=2)
    assert len(srv.requests) == 3
    assert caplog.records
    assert all(SCRIPTED_KEY not in record.getMessage() for record in caplog.records)


def chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


async def test_a_connection_error_holds_no_chain_to_the_request() -> None:
    async with scripted(answers(json_body(job()))) as srv:
        url = srv.url
    # The server is gone: connection refused, an aiohttp error holding the request.
    with pytest.raises(APIConnectionError) as caught:
        await get(url, max_retries=1)
    assert chain(caught.value) == [caught.value]
    assert caught.value.__suppress_context__


async def test_a_timeout_holds_no_chain() -> None:
    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response(job())

    async with scripted(slow) as srv:
        with pytest.raises(APITimeoutError) as caught:
            await get(srv.url, max_retries=0, timeout=0.2)
    assert chain(caught.value) == [caught.value]


async def test_a_body_that_is_not_json_holds_no_chain_to_the_decoder() -> None:
    async with scripted(answers(raw(b"{not json " + SCRIPTED_KEY.encode()))) as srv:
        with pytest.raises(ResponseValidationError) as caught:
            await get(srv.url)
    assert chain(caught.value) == [caught.value]  # JSONDecodeError.doc would hold the body


# -- 6. messages stay short; the data stays on attributes --------------------------------------


async def test_a_failed_job_with_a_huge_error_message_makes_a_short_message() -> None:
    failed = job(status="FAILED", error_message="boom " * 2_000_000)  # 10 MB
    async with (
        scripted(answers(json_body(failed))) as srv,
        asyncio.timeout(DEADLINE),
        client_for(srv.url) as client,
    ):
        with pytest.raises(JobFailedError) as caught:
            await client.wait_for_job("cls-1")
    assert len(str(caught.value)) < 1100
    assert caught.value.job.error_message == failed["error_message"]


async def test_escape_sequences_from_the_server_never_reach_a_message() -> None:
    detail = "\x1b]0;pwned\x07\x1b[2J\rfake prompt$ \u202e"
    async with scripted(answers(json_body({"detail": detail}, 404))) as srv:
        with pytest.raises(NotFoundError) as caught:
            await get(srv.url)
    message = str(caught.value)
    assert not any(char in message for char in "\x1b\x07\r\u202e")
    assert "\\x1b" in message


async def test_an_error_detail_nested_just_under_the_parse_limit_still_makes_a_message() -> None:
    depth = 990  # json.loads accepts it; writing it back out for a message would not
    body = b'{"detail": ' + b"[" * depth + b"]" * depth + b"}"
    async with scripted(answers(raw(body, 422))) as srv:
        with pytest.raises(UnprocessableEntityError) as caught:
            await get(srv.url)
    assert len(str(caught.value)) < 1100
