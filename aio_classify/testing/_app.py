"""The aiohttp application: wire-format routes, admin routes, and the middleware around them.

The middleware does, in order: record the request and count it in flight, sleep the injected
latency, apply the next matching fault, check the bearer token, apply the route's rate limit
(``ratelimit``). Every answer carries an ``x-request-id`` (a fresh random id, as the service
sends one), unless a scripted fault set its own. Admin routes (``/_fake/...``, made in
``_admin.py`` from the table in ``_controls.py``) only check the token, so controlling the server
never disturbs what a benchmark measures.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from aiohttp import web
from aiohttp.typedefs import Handler

from . import _admin as admin
from . import _paging as paging
from . import _seed as seed
from ._controls import PREFIX, Controls
from ._faults import RecordedRequest
from ._parse_requests import Invalid, error, parse_create_body, parse_list_query, parse_scope
from ._store import Job, JobStore


class ServedState(Controls, Protocol):
    """What the handlers use of ``FakeClassifyServer`` (the admin routes' ``Controls`` and more).

    Written out here so this module does not import ``server`` (which imports this module to
    build its application): the dependency runs one way, ``server`` -> ``app``.
    """

    api_key: str
    store: JobStore

    def create(
        self,
        file_input: str,
        *,
        configuration: dict[str, Any] | None = None,
        configuration_id: str | None = None,
        transaction_id: str | None = None,
        project_id: str | None = None,
        webhook_configurations: Iterable[Mapping[str, Any]] = (),
        webhook_configuration_ids: Iterable[str] = (),
    ) -> Job: ...


SERVER: web.AppKey[ServedState] = web.AppKey("server")
ADMIN_PREFIX = PREFIX


def detail(status: int, message: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"detail": message}, status=status, headers=headers)


def raw_json(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, content_type="application/json")


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    server = request.app[SERVER]
    authorized = request.headers.get("Authorization") == f"Bearer {server.api_key}"
    try:
        if request.match_info.http_exception is not None:  # no such route or method
            return _json_error(request.match_info.http_exception)
        if not request.path.startswith(ADMIN_PREFIX):
            return await _api_request(request, handler, authorized)
        if not authorized:
            return detail(401, "Invalid authentication credentials")
        try:
            return await handler(request)
        except (TypeError, ValueError, KeyError) as exc:
            return detail(422, f"Bad admin request: {exc!r}")
    except Invalid as exc:
        return detail(422, exc.errors)
    except web.HTTPException as exc:
        return _json_error(exc)


def _json_error(exc: web.HTTPException) -> web.Response:
    """Every error answers JSON ``{"detail": ...}``, as the service's framework does; aiohttp's
    own (unknown route 404, wrong method 405 with ``Allow``) would be ``text/plain``."""
    if exc.content_type == "application/json" and exc.text:
        return web.Response(text=exc.text, status=exc.status, content_type="application/json")
    allow = exc.headers.get("Allow")
    return detail(exc.status, exc.reason, headers={"Allow": allow} if allow else None)


def redacted_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request's headers for the log, credentials replaced: a printed or failing test's
    request log must not show a key (and the fake may be given a real one)."""
    return {
        name: _redacted(value) if name.lower() in SECRET_HEADERS else value
        for name, value in headers.items()
    }


SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def _redacted(value: str) -> str:
    scheme, _, credential = value.partition(" ")
    return f"{scheme} [redacted]" if credential else "[redacted]"


async def _api_request(
    request: web.Request, handler: Handler, authorized: bool
) -> web.StreamResponse:
    server = request.app[SERVER]
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else request.path
    route = f"{request.method} {path}"
    server.stats.enter(
        RecordedRequest(
            method=request.method,
            path=request.path,
            query=tuple(request.query.items()),
            headers=redacted_headers(request.headers),
            authorized=authorized,
            time=time.time(),
            route=route,
        )
    )
    try:
        if server.latency > 0:
            await asyncio.sleep(server.latency)
        fault = server.faults.take(request.method, request.path)
        if fault is not None and fault.kind == "drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)  # never sent: aiohttp drops the write quietly
        if fault is not None:
            return web.Response(
                body=fault.body,
                status=fault.status,
                headers=dict(fault.headers),
                content_type=fault.content_type,
            )
        if not authorized:
            return detail(401, "Invalid authentication credentials")
        throttled = server.rate_limits.check(route)
        if throttled is not None:
            return detail(429, "Too many requests; slow down", throttled)
        return await handler(request)
    finally:
        server.stats.leave()


async def list_jobs(request: web.Request) -> web.Response:
    filters, page_size, token = parse_list_query(request.query)
    try:
        body = paging.page_body(request.app[SERVER].store, filters, page_size, token)
    except paging.BadToken as exc:
        raise Invalid([error(("query", "page_token"), str(exc), "value_error")]) from exc
    return raw_json(body)


def known_job(request: web.Request) -> Job:
    """The job the path names; 404 (as the service words it) when there is none, or when it
    belongs to another project than the query's ``project_id``."""
    project_id, _ = parse_scope(request.query)
    job = request.app[SERVER].store.get(request.match_info["job_id"])
    if job is None or project_id not in (None, job.data.get("project_id")):
        raise web.HTTPNotFound(
            text=json.dumps({"detail": "Job not found"}), content_type="application/json"
        )
    return job


async def json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except (ValueError, RecursionError):  # nested deeper than Python's parser goes: 422 too
        raise Invalid([error(("body", 0), "JSON decode error", "json_invalid")]) from None


def served(request: web.Request, job: Job) -> web.Response:
    """The job as the server answers it: ``usage`` only with ``expand=usage``."""
    unserved = request.app[SERVER].store.unserved
    if "usage" in request.query.getall("expand", ()):
        unserved -= {"usage"}
    return raw_json(job.raw(unserved))


async def get_job(request: web.Request) -> web.Response:
    return served(request, known_job(request))


async def create_job(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    project_id, _ = parse_scope(request.query)
    body = await json_body(request)
    create = parse_create_body(body)
    job = server.create(
        create.file_input,
        configuration=create.configuration,
        configuration_id=create.configuration_id,
        transaction_id=create.transaction_id,
        project_id=project_id,
        webhook_configurations=create.webhook_configurations,
        webhook_configuration_ids=create.webhook_configuration_ids,
    )
    return served(request, job)


def known_job_status(request: web.Request) -> tuple[Job, Any]:
    """The path's job (see ``known_job``) and its status, which cancel and delete check."""
    job = known_job(request)
    return job, job.data.get("status")


async def cancel_job(request: web.Request) -> web.Response:
    job, status = known_job_status(request)
    if status in seed.TERMINAL:
        return detail(409, f"Job is already {status} and cannot be cancelled")
    request.app[SERVER].store.set_status(job, "CANCELLED")
    return served(request, job)


async def delete_job(request: web.Request) -> web.Response:
    job, status = known_job_status(request)
    if status not in seed.TERMINAL:
        return detail(409, f"Job is {status}; only finished jobs can be deleted")
    request.app[SERVER].store.remove(job.key[1])
    return web.json_response({"id": job.key[1], "project_id": job.data.get("project_id")})


async def _add_request_id(_: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("x-request-id", f"req_{secrets.token_hex(12)}")


def build_app(server: ServedState) -> web.Application:
    app = web.Application(middlewares=[middleware])
    app.on_response_prepare.append(_add_request_id)
    app[SERVER] = server
    app.router.add_get("/api/v2/classify", list_jobs)
    app.router.add_post("/api/v2/classify", create_job)
    app.router.add_get("/api/v2/classify/{job_id}", get_job)
    app.router.add_delete("/api/v2/classify/{job_id}", delete_job)
    app.router.add_post("/api/v2/classify/{job_id}/cancel", cancel_job)
    app.router.add_routes(admin.routes(server))
    return app
