"""The fake's admin API: every ``/_fake/`` route, so a fake in another process (started by
``aio-classify fake-server``) can be driven from any language or from ``curl``.

Each route mirrors one method of ``FakeClassifyServer`` (``POST /_fake/fail-next`` is
``fail_next``...), so the two stay one set of controls; the table of routes is in the package
docstring (``aio_classify.testing``) and the README. Bodies are JSON objects whose fields are
checked like the service checks its own: a wrong type, a value out of range or an unknown field
(a typo such as ``retry-after``) is a 422 naming the field, and nothing changes.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import attrs
from aiohttp import web

from ._faults import TRUNCATED_JSON, Fault, FaultQueue, RecordedRequest, Stats
from ._parse_requests import Invalid, error
from ._ratelimit import RateLimits
from ._webhooks import DeliveryFaults, WebhookDeliverer

PREFIX = "/_fake/"
#: Most requests one ``GET /_fake/requests`` returns; page on with ``offset``.
MAX_LOG_PAGE = 10_000
MAX_COUNT = 1_000_000


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _header_safe(value: object) -> bool:
    """A string aiohttp can send as a header name or value (it refuses line breaks)."""
    return isinstance(value, str) and bool(value) and "\r" not in value and "\n" not in value


def _invalid(loc: tuple[str, ...], message: str, kind: str) -> Invalid:
    return Invalid([error(loc, message, kind)])


class Fields:
    """Typed reads of one admin request's JSON object; each bad value raises ``Invalid``."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        self._body = body
        self._read: set[str] = set()

    @classmethod
    async def of(cls, request: web.Request) -> Fields:
        """The request's body: a JSON object, or none at all (``curl -X POST`` with no data)."""
        if not request.can_read_body:
            return cls({})
        try:
            body = await request.json()
        except ValueError:
            raise Invalid([error(("body", 0), "JSON decode error", "json_invalid")]) from None
        if not isinstance(body, dict):
            raise Invalid([error(("body",), "Input should be a valid dictionary", "dict_type")])
        return cls(body)

    def has(self, name: str) -> bool:
        """Whether the field is present (even as ``null``)."""
        return name in self._body

    def value(self, name: str) -> Any:
        """The raw JSON value of a field (None when absent)."""
        self._read.add(name)
        return self._body.get(name)

    def number(self, name: str, default: float, *, maximum: float) -> float:
        value = self.value(name)
        if value is None:
            return default
        # The range check also refuses NaN and infinities (Python's JSON reader accepts them).
        if not _is_number(value) or not 0 <= value <= maximum:
            message = f"Input should be a number between 0 and {maximum:g}"
            raise _invalid(("body", name), message, "number_range")
        return float(value)

    def integer(
        self, name: str, default: int | None, *, minimum: int, maximum: int = MAX_COUNT
    ) -> int:
        """A whole number in range; ``default`` None means the field is required."""
        value = self.value(name)
        if value is None and default is not None:
            return default
        if value is None:
            raise _invalid(("body", name), "Field required", "missing")
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            message = f"Input should be a whole number between {minimum} and {maximum}"
            raise _invalid(("body", name), message, "int_range")
        return value

    def seed(self) -> int:
        """The ``seed`` field of a route that draws at random (0 when absent)."""
        return self.integer("seed", 0, minimum=0, maximum=2**63)

    def fault_target(self) -> tuple[str | None, str | None]:
        """A fault's ``method`` and exact ``path``; an absent one matches any request."""
        return self.text("method"), self.text("path")

    def text(self, name: str) -> str | None:
        value = self.value(name)
        return None if value is None else self._non_empty(name, value)

    def required_text(self, name: str) -> str:
        return self._non_empty(name, self.value(name))

    @staticmethod
    def _non_empty(name: str, value: object) -> str:
        if not isinstance(value, str) or not value:
            raise _invalid(("body", name), "Input should be a non-empty string", "string_type")
        return value

    def header_value(self, name: str) -> str | None:
        """A header's value: a string without line breaks, or a number (sent as its text)."""
        value = self.value(name)
        if value is None:
            return None
        if _header_safe(value) or _is_number(value):
            return str(value)
        message = "Input should be a number or a string (no line breaks)"
        raise _invalid(("body", name), message, "header_value")

    def numbers(self, name: str, *, maximum: float) -> list[float] | None:
        """A list of numbers, each between 0 and ``maximum``."""
        value = self.value(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(
            _is_number(item) and 0 <= item <= maximum for item in value
        ):
            message = f"Input should be a list of numbers between 0 and {maximum:g}"
            raise _invalid(("body", name), message, "list_type")
        return [float(item) for item in value]

    def texts(self, name: str) -> list[str] | None:
        value = self.value(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _invalid(("body", name), "Input should be a list of strings", "list_type")
        return value

    def text_map(self, name: str) -> dict[str, str]:
        value = self.value(name)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(map(_header_safe, [*value, *value.values()])):
            message = "Input should be an object of header names and values (no line breaks)"
            raise _invalid(("body", name), message, "dict_type")
        return value

    def weights(self, name: str) -> str | dict[str, float] | None:
        """One status, or weights such as ``{"COMPLETED": 9, "FAILED": 1}``."""
        value = self.value(name)
        if value is None or (isinstance(value, str) and value):
            return value
        if (
            isinstance(value, dict)
            and value
            and all(_is_number(w) and 0 <= w < math.inf for w in value.values())
            and sum(value.values()) > 0
        ):
            return {str(k): float(w) for k, w in value.items()}
        message = "Input should be a status or an object of status weights"
        raise _invalid(("body", name), message, "weights_type")

    def finish(self) -> None:
        """Refuse fields no route reads, so a typo never passes as 'nothing to change'."""
        unknown = sorted(set(self._body) - self._read)
        if unknown:
            message = "Extra inputs are not permitted"
            raise _invalid(("body", unknown[0]), message, "extra_forbidden")


def _query_int(request: web.Request, name: str, default: int, maximum: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) > maximum:
        message = f"Input should be a whole number between 0 and {maximum}"
        raise _invalid(("query", name), message, "int_range")
    return int(text)


def _logged(request: RecordedRequest) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.path,
        "query": [list(pair) for pair in request.query],
        "headers": dict(request.headers),
        "time": request.time,
        "route": request.route,
    }


def _pending(fault: Fault) -> dict[str, Any]:
    return {
        "kind": fault.kind,
        "status": None if fault.kind == "drop" else fault.status,
        "method": fault.method,
        "path": fault.path,
    }


class Controls(Protocol):
    """What the admin routes use of ``FakeClassifyServer``: written out so this module needs
    no import of ``server`` (which imports the app, which imports this module)."""

    latency: float
    faults: FaultQueue
    stats: Stats
    rate_limits: RateLimits
    webhooks: WebhookDeliverer

    @property
    def requests(self) -> list[RecordedRequest]: ...

    @property
    def unfinished_job_ids(self) -> list[str]: ...

    def job(self, job_id: str) -> dict[str, Any] | None: ...

    def seed_jobs(
        self,
        count: int,
        *,
        statuses: str | Mapping[str, float] | None = None,
        project_id: str | None = None,
        configuration_id: str | None = None,
    ) -> list[str]: ...

    def advance(self, job_id: str) -> dict[str, Any]: ...

    def advance_all(self) -> dict[str, str]: ...

    def set_status(
        self, job_id: str, status: str, *, error_message: str | None = None
    ) -> dict[str, Any]: ...

    def finish_all(self, *, fail_ratio: float = 0.0, seed: int = 0) -> dict[str, str]: ...

    def finish_later(
        self,
        job_ids: Iterable[str],
        *,
        within: float = 10.0,
        seed: int = 0,
        fail_ratio: float = 0.0,
    ) -> dict[str, float]: ...

    def terminal_times(self) -> dict[str, float]: ...

    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        retry_after: float | str | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | dict[str, Any] | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None: ...

    def drop_next(
        self, count: int = 1, *, method: str | None = None, path: str | None = None
    ) -> None: ...

    def malformed_next(
        self,
        count: int = 1,
        *,
        body: bytes = TRUNCATED_JSON,
        status: int = 200,
        content_type: str = "application/json",
        method: str | None = None,
        path: str | None = None,
    ) -> None: ...

    def clear_faults(self) -> None: ...

    def set_rate_limit(
        self, call: str, rate: float | None, *, burst: float = 1.0, hint: str = "seconds"
    ) -> None: ...

    def reset_stats(self) -> None: ...


def _job_not_found() -> web.Response:
    """The 404 the admin job routes answer for an unknown id, worded as the service does."""
    return web.json_response({"detail": "Job not found"}, status=404)


class AdminRoutes:
    """The handlers, bound to one server."""

    def __init__(self, server: Controls) -> None:
        self._server = server

    # -- jobs ------------------------------------------------------------------------------

    async def seed(self, request: web.Request) -> web.Response:
        fields = await Fields.of(request)
        count = fields.integer("count", 1, minimum=0)
        statuses = fields.weights("statuses")
        project_id = fields.text("project_id")
        configuration_id = fields.text("configuration_id")
        fields.finish()
        ids = self._server.seed_jobs(
            count, statuses=statuses, project_id=project_id, configuration_id=configuration_id
        )
        return web.json_response({"ids": ids})

    async def advance(self, request: web.Request) -> web.Response:
        (await Fields.of(request)).finish()
        job_id = request.match_info["job_id"]
        if self._server.job(job_id) is None:
            return _job_not_found()
        try:
            return web.json_response(self._server.advance(job_id))
        except ValueError as exc:  # already finished
            return web.json_response({"detail": str(exc)}, status=409)

    async def set_status(self, request: web.Request) -> web.Response:
        fields = await Fields.of(request)
        status = fields.required_text("status")
        error_message = fields.text("error_message")
        fields.finish()
        job_id = request.match_info["job_id"]
        if self._server.job(job_id) is None:
            return _job_not_found()
        job = self._server.set_status(job_id, status, error_message=error_message)
        return web.json_response(job)

    async def advance_all(self, request: web.Request) -> web.Response:
        (await Fields.of(request)).finish()
        return web.json_response({"moved": self._server.advance_all()})

    async def finish_all(self, request: web.Request) -> web.Response:
        fields = await Fields.of(request)
        fail_ratio = fields.number("fail_ratio", 0.0, maximum=1.0)
        seed = fields.seed()
        fields.finish()
        finished = self._server.finish_all(fail_ratio=fail_ratio, seed=seed)
        return web.json_response({"finished": finished})

    async def finish_later(self, request: web.Request) -> web.Response:
        fields = await Fields.of(request)
        job_ids = fields.texts("job_ids")
        within = fields.number("within", 10.0, maximum=86400.0)
        seed = fields.seed()
        fail_ratio = fields.number("fail_ratio", 0.0, maximum=1.0)
        fields.finish()
        due = self._server.finish_later(
            self._server.unfinished_job_ids if job_ids is None else job_ids,
            within=within,
            seed=seed,
            fail_ratio=fail_ratio,
        )
        return web.json_response({"due": due})

    async def terminal_times(self, request: web.Request) -> web.Response:
        return web.json_response(self._server.terminal_times())

    # -- faults and latency ----------------------------------------------------------------

    async def fail_next(self, request: web.Request) -> web.Response:
        fields = await Fields.of(request)
        status = fields.integer("status", None, minimum=100, maximum=599)
        count = fields.integer("count", 1, minimum=1)
        retry_after = fields.header_value("retry_after")
        headers = fields.text_map("headers")
        body = json.dumps(fields.value("body")).encode() if fields.has("body") else None
        method, path = fields.fault_target()
        fields.finish()
        self._server.fail_next(
            status,
            count,
            retry_after=retry_after,
            headers=headers,
            body=body,
            method=method,
            path=path,
        )
        return self._faults_response()

    async def drop_next(self, request: web.Request) -> web.Response:
        fields = await Fields.of(request)
        count = fields.integer("count", 1, minimum=1)
        method, path = fields.fault_target()
        fields.finish()
        self._server.drop_next(count, method=method, path=path)
        return self._faults_response()

    async def malformed_next(self, request: web.Request) -> web.Response:
        fields = await Fields.of(request)
        count = fields.integer("count", 1, minimum=1)
        body = fields.value("body")
        if body is None:
            body = TRUNCATED_JSON.decode()
        if not isinstance(body, str):
            raise _invalid(("body", "body"), "Input should be a string", "string_type")
        status = fields.integer("status", 200, minimum=100, maximum=599)
        content_type = fields.text("content_type") or "application/json"
        method, path = fields.fault_target()
        fields.finish()
        self._server.malformed_next(
            count,
            body=body.encode(),
            status=status,
            content_type=content_type,
            method=method,
            path=path,
        )
        return self._faults_response()

    async def faults(self, request: web.Request) -> web.Response:
        return self._faults_response()

    async def clear_faults(self, request: web.Request) -> web.Response:
        (await Fields.of(request)).finish()
        self._server.clear_faults()
        return self._faults_response()

    def _faults_response(self) -> web.Response:
        return web.json_response({"pending": [_pending(fault) for fault in self._server.faults]})

    async def latency(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            fields = await Fields.of(request)
            seconds = fields.number("seconds", 0.0, maximum=3600.0)
            fields.finish()
            self._server.latency = seconds
        return web.json_response({"seconds": self._server.latency})

    async def rate_limit(self, request: web.Request) -> web.Response:
        """POST sets (or, with ``"rate": null``, lifts) a call kind's limit; both answer the
        limits, the counts and the log (``RateLimits.describe``)."""
        if request.method == "POST":
            fields = await Fields.of(request)
            call = fields.required_text("call")
            if not fields.has("rate"):
                raise _invalid(("body", "rate"), "Field required", "missing")
            rate = None if fields.value("rate") is None else fields.number("rate", 0, maximum=1e6)
            burst = fields.number("burst", 1.0, maximum=1e6)
            hint = fields.text("hint") or "seconds"
            fields.finish()
            try:
                self._server.set_rate_limit(call, rate, burst=burst, hint=hint)
            except ValueError as exc:  # an unknown call kind or hint, a rate of 0, a burst < 1
                raise _invalid(("body",), str(exc), "value_error") from None
        return web.json_response(self._server.rate_limits.describe())

    # -- webhook deliveries ----------------------------------------------------------------

    async def webhook_faults(self, request: web.Request) -> web.Response:
        """Replace the shares of deliveries dropped, duplicated, delayed or reordered; optionally
        the pauses between a delivery's attempts (``retry_delays``)."""
        fields = await Fields.of(request)
        shares = {
            name: fields.number(name, 0.0, maximum=1.0)
            for name in ("drop", "duplicate", "delay", "reorder")
        }
        delay_seconds = fields.number("delay_seconds", 1.0, maximum=3600.0)
        seed = fields.seed()
        retry_delays = fields.numbers("retry_delays", maximum=3600.0)
        fields.finish()
        deliverer = self._server.webhooks
        deliverer.faults = DeliveryFaults(**shares, delay_seconds=delay_seconds, seed=seed)
        if retry_delays is not None:
            deliverer.retry_delays = tuple(retry_delays)
        return web.json_response(attrs.asdict(deliverer.faults))

    async def webhook_deliveries(self, request: web.Request) -> web.Response:
        """How many deliveries ended each way, and the jobs whose events were dropped."""
        deliveries = self._server.webhooks.deliveries
        return web.json_response(
            {
                "counts": dict(Counter(delivery.outcome for delivery in deliveries)),
                "dropped_job_ids": [d.job_id for d in deliveries if d.outcome == "dropped"],
            }
        )

    # -- what the server saw ---------------------------------------------------------------

    async def stats(self, request: web.Request) -> web.Response:
        stats = self._server.stats
        return web.json_response(
            {
                "requests": len(stats.requests),
                "in_flight": stats.in_flight,
                "max_in_flight": stats.max_in_flight,
                "by_route": stats.by_route(),
            }
        )

    async def requests(self, request: web.Request) -> web.Response:
        log = self._server.requests
        offset = _query_int(request, "offset", 0, MAX_COUNT * 100)
        limit = _query_int(request, "limit", MAX_LOG_PAGE, MAX_LOG_PAGE)
        chosen = log[offset : offset + limit]
        return web.json_response(
            {"total": len(log), "offset": offset, "requests": [_logged(r) for r in chosen]}
        )

    async def reset_stats(self, request: web.Request) -> web.Response:
        (await Fields.of(request)).finish()
        self._server.reset_stats()
        return web.json_response({})


def routes(server: Controls) -> list[web.RouteDef]:
    """Every admin route, bound to ``server``."""
    admin = AdminRoutes(server)
    return [
        web.post(PREFIX + "seed", admin.seed),
        web.post(PREFIX + "jobs/{job_id}/advance", admin.advance),
        web.post(PREFIX + "jobs/{job_id}/status", admin.set_status),
        web.post(PREFIX + "advance-all", admin.advance_all),
        web.post(PREFIX + "finish-all", admin.finish_all),
        web.post(PREFIX + "finish-later", admin.finish_later),
        web.get(PREFIX + "terminal-times", admin.terminal_times),
        web.post(PREFIX + "fail-next", admin.fail_next),
        web.post(PREFIX + "drop-next", admin.drop_next),
        web.post(PREFIX + "malformed-next", admin.malformed_next),
        web.get(PREFIX + "faults", admin.faults),
        web.post(PREFIX + "clear-faults", admin.clear_faults),
        web.get(PREFIX + "latency", admin.latency),
        web.post(PREFIX + "latency", admin.latency),
        web.get(PREFIX + "rate-limit", admin.rate_limit),
        web.post(PREFIX + "rate-limit", admin.rate_limit),
        web.post(PREFIX + "webhook-faults", admin.webhook_faults),
        web.get(PREFIX + "webhook-deliveries", admin.webhook_deliveries),
        web.get(PREFIX + "stats", admin.stats),
        web.get(PREFIX + "requests", admin.requests),
        web.post(PREFIX + "reset-stats", admin.reset_stats),
    ]
