"""The fake's controls, described once: ``CONTROLS`` is the table from which the ``/_fake/``
admin routes and their argument checks are made (``_admin``) and from which the route tables
of the docs are rendered (``markdown``; a test holds the README, the testing guide and the
package docstring to it).

Each control names the ``FakeClassifyServer`` member it does over HTTP (``POST /_fake/fail-next``
calls ``fail_next`` with the body's fields as keywords); a test binds every control's arguments to
that member's signature, which is why the server's methods need no second, typed copy here. A new
control is one ``Control`` entry (and, when it needs one, the server method it calls).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, Literal, NoReturn, Protocol

import attrs
from aiohttp import web

from ._admin_args import (
    MAX_COUNT,
    SEED,
    AnyJson,
    Arg,
    HeaderMap,
    HeaderValue,
    Integer,
    NullableNumber,
    Number,
    Numbers,
    QueryInteger,
    RawText,
    Text,
    Texts,
    Weights,
)
from ._faults import FaultQueue, RecordedRequest, Stats
from ._parse_requests import Invalid, error
from ._ratelimit import RateLimits
from ._webhooks import FAULT_SHARES, DeliveryFaults, WebhookDeliverer

PREFIX = "/_fake/"
#: Most requests one ``GET /_fake/requests`` returns; page on with ``offset``.
MAX_LOG_PAGE = 10_000

Args = dict[str, Any]


class Controls(Protocol):
    """The state of ``FakeClassifyServer`` the answers read (its methods are called by name,
    checked by a test): written out so this module needs no import of ``server`` (which
    imports the app, which imports the admin routes)."""

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


@attrs.frozen
class Group:
    """A section of the docs: its own table, after a sentence saying what it holds."""

    intro: str
    header: str = "| route | body fields (all optional unless marked) | what it does, and answers |"


def _result(server: Controls, result: Any) -> Any:
    return result


def _call(server: Controls, member: str, args: Args) -> Any:
    """Call the server's method with the arguments as keywords; read an attribute as it is."""
    found = getattr(server, member)
    return found(**args) if callable(found) else found


@attrs.frozen
class Control:
    """One admin route: what it reads, what it does to the server, what it answers.

    Attributes:
        verb: ``GET`` (reads, never a body) or ``POST`` (a JSON object, or no body).
        path: After ``/_fake/``; ``{job_id}`` routes answer 404 for an unknown job.
        group: The docs section it is listed in.
        calls: The ``FakeClassifyServer`` member it does over HTTP: a method called with
            the arguments (and ``job_id``) as keywords, or an attribute read.
        doc: What it does and answers, one line of the docs table.
        args: Its fields, read and checked in this order.
        answer: The JSON answer, from the server and what ``calls`` gave.
        act: Used instead of calling ``calls`` when the route does more than that.
        refusal: The answer to a ``ValueError`` from the call (else the generic 422).
    """

    verb: Literal["GET", "POST"]
    path: str
    group: Group
    calls: str
    doc: str
    args: tuple[Arg, ...] = ()
    answer: Callable[[Controls, Any], object] = _result
    act: Callable[[Controls, Args], Any] | None = None
    refusal: Callable[[ValueError], web.Response] | None = None

    @property
    def route(self) -> str:
        """``METHOD /_fake/path``, as the docs and aiohttp's router name it."""
        return f"{self.verb} {PREFIX}{self.path}"

    def run(self, server: Controls, args: Args) -> object:
        """Do the control's work on the server; return its JSON answer."""
        result = _call(server, self.calls, args) if self.act is None else self.act(server, args)
        return self.answer(server, result)


# -- what the routes answer ------------------------------------------------------------------


def _conflict(exc: ValueError) -> web.Response:
    return web.json_response({"detail": str(exc)}, status=409)


def _value_refused(exc: ValueError) -> NoReturn:
    raise Invalid([error(("body",), str(exc), "value_error")])


def _pending_faults(server: Controls, _: object) -> dict[str, Any]:
    pending = [
        {
            "kind": fault.kind,
            "status": None if fault.kind == "drop" else fault.status,
            "method": fault.method,
            "path": fault.path,
        }
        for fault in server.faults
    ]
    return {"pending": pending}


def _latency(server: Controls, _: object) -> dict[str, float]:
    return {"seconds": server.latency}


def _set_latency(server: Controls, args: Args) -> None:
    server.latency = args["seconds"]


def _limits(server: Controls, _: object) -> dict[str, Any]:
    return server.rate_limits.describe()


def _finish_later(server: Controls, args: Args) -> Any:
    """``finish_later``, of every unfinished job when ``job_ids`` is absent."""
    if args["job_ids"] is None:
        args = {**args, "job_ids": server.unfinished_job_ids}
    return _call(server, "finish_later", args)


def _set_webhook_faults(server: Controls, args: Args) -> DeliveryFaults:
    deliverer = server.webhooks
    deliverer.faults = DeliveryFaults(**{k: v for k, v in args.items() if k != "retry_delays"})
    if args["retry_delays"] is not None:
        deliverer.retry_delays = tuple(args["retry_delays"])
    return deliverer.faults


def _deliveries(server: Controls, deliverer: WebhookDeliverer) -> dict[str, Any]:
    deliveries = deliverer.deliveries
    return {
        "counts": dict(Counter(delivery.outcome for delivery in deliveries)),
        "dropped_job_ids": [d.job_id for d in deliveries if d.outcome == "dropped"],
    }


def _stats(server: Controls, stats: Stats) -> dict[str, Any]:
    return {
        "requests": len(stats.requests),
        "in_flight": stats.in_flight,
        "max_in_flight": stats.max_in_flight,
        "by_route": stats.by_route(),
    }


def _log_page(server: Controls, args: Args) -> dict[str, Any]:
    log = server.requests
    offset, limit = args["offset"], args["limit"]
    chosen = log[offset : offset + limit]
    logged = [
        {
            "method": request.method,
            "path": request.path,
            "query": [list(pair) for pair in request.query],
            "headers": dict(request.headers),
            "time": request.time,
            "route": request.route,
        }
        for request in chosen
    ]
    return {"total": len(log), "offset": offset, "requests": logged}


# -- the table -------------------------------------------------------------------------------

JOBS = Group("Jobs (moving a job by hand cancels the moves its lifecycle had scheduled):")
FAULTS = Group(
    "Faults and latency (a fault waits for the next request matching its `method` and exact "
    "`path`, if given; faults are used oldest first; each route answers the faults still "
    "pending):"
)
RATE_LIMITS = Group(
    "Rate limits (a token bucket per call kind, as `FakeClassifyServer.set_rate_limit`):"
)
WEBHOOKS = Group("Webhook deliveries (to the `webhook_configurations` of created jobs):")
SEEN = Group(
    "What the server saw (API requests only):",
    header="| route | body fields | what it does, and answers |",
)

COUNT = Integer("count", 1, minimum=1)
FAIL_RATIO = Number("fail_ratio", 0.0, 1.0)
#: A fault's target; an absent one matches any request.
TARGET = (Text("method"), Text("path"))
STATUS_CODE = Integer("status", None, minimum=100, maximum=599)

CONTROLS: tuple[Control, ...] = (
    Control(
        "POST",
        "seed",
        JOBS,
        "seed_jobs",
        'adds realistic jobs: `{"ids": [...]}`, newest first',
        args=(
            Integer("count", 1),
            Weights(
                "statuses", note='`"PENDING"`, or weights such as `{"COMPLETED": 9, "FAILED": 1}`'
            ),
            Text("project_id"),
            Text("configuration_id"),
        ),
        answer=lambda server, ids: {"ids": ids},
    ),
    Control(
        "POST",
        "jobs/{job_id}/advance",
        JOBS,
        "advance",
        "moves one job a step, PENDING to RUNNING to COMPLETED: the job; 404 unknown, 409 finished",
        refusal=_conflict,
    ),
    Control(
        "POST",
        "jobs/{job_id}/status",
        JOBS,
        "set_status",
        "sets any status now (COMPLETED fills in a result): the job; 404 unknown",
        args=(Text("status", required=True), Text("error_message")),
    ),
    Control(
        "POST",
        "advance-all",
        JOBS,
        "advance_all",
        'moves every unfinished job a step: `{"moved": {id: status}}`',
        answer=lambda server, moved: {"moved": moved},
    ),
    Control(
        "POST",
        "finish-all",
        JOBS,
        "finish_all",
        "ends every unfinished job now, COMPLETED or (that share) FAILED: "
        '`{"finished": {id: status}}`',
        args=(FAIL_RATIO, SEED),
        answer=lambda server, finished: {"finished": finished},
    ),
    Control(
        "POST",
        "finish-later",
        JOBS,
        "finish_later",
        "each job ends at a random moment within `within` seconds, RUNNING halfway: "
        '`{"due": {id: epoch seconds}}`',
        args=(
            Texts("job_ids", note="every unfinished job"),
            Number("within", 10.0, 86400.0, note="seconds"),
            SEED,
            FAIL_RATIO,
        ),
        act=_finish_later,
        answer=lambda server, due: {"due": due},
    ),
    Control(
        "GET",
        "terminal-times",
        JOBS,
        "terminal_times",
        "when each job became terminal while served: `{id: epoch seconds}`",
    ),
    Control(
        "POST",
        "fail-next",
        FAULTS,
        "fail_next",
        "answers the next `count` requests with that status",
        args=(
            STATUS_CODE,
            COUNT,
            HeaderValue("retry_after", note="sent as `Retry-After`"),
            HeaderMap("headers"),
            AnyJson("body", note='any JSON; default `{"detail": "Injected fault: HTTP <status>"}`'),
            *TARGET,
        ),
        answer=_pending_faults,
    ),
    Control(
        "POST",
        "drop-next",
        FAULTS,
        "drop_next",
        "closes the connection without an answer (aiohttp resends an idempotent request once "
        "by itself: `count: 2` reaches a client's retries)",
        args=(COUNT, *TARGET),
        answer=_pending_faults,
    ),
    Control(
        "POST",
        "malformed-next",
        FAULTS,
        "malformed_next",
        "answers with that broken body",
        args=(
            COUNT,
            RawText("body"),
            Integer("status", 200, minimum=100, maximum=599),
            Text("content_type", default="application/json", header=True),
            *TARGET,
        ),
        answer=_pending_faults,
    ),
    Control(
        "GET",
        "faults",
        FAULTS,
        "faults",
        '`{"pending": [{"kind", "status", "method", "path"}, ...]}`',
        answer=_pending_faults,
    ),
    Control(
        "POST",
        "clear-faults",
        FAULTS,
        "clear_faults",
        "drops every pending fault",
        answer=_pending_faults,
    ),
    Control(
        "GET",
        "latency",
        FAULTS,
        "latency",
        '`{"seconds": ...}` added before each API request is answered',
        answer=_latency,
    ),
    Control(
        "POST",
        "latency",
        FAULTS,
        "latency",
        "sets it",
        args=(Number("seconds", 0.0, 3600.0),),
        act=_set_latency,
        answer=_latency,
    ),
    Control(
        "POST",
        "rate-limit",
        RATE_LIMITS,
        "set_rate_limit",
        "beyond the limit that call kind is answered 429 with that hint; answers as `GET`",
        args=(
            Text("call", required=True, note="`list`, `get`, `create`, `cancel` or `delete`"),
            NullableNumber("rate", 1e6, note="requests a second, or `null` to lift the limit"),
            Number("burst", 1.0, 1e6),
            Text("hint", default="seconds", note="also `ms` or `none`"),
        ),
        answer=_limits,
        refusal=_value_refused,  # an unknown call kind or hint, a rate of 0, a burst < 1
    ),
    Control(
        "GET",
        "rate-limit",
        RATE_LIMITS,
        "rate_limits",
        '`{"limits": {call: {"rate", "burst", "hint"}}, "answers": {call: {"allowed", '
        '"throttled"}}, "log": {call: [[time, throttled], ...]}}`',
        answer=_limits,
    ),
    Control(
        "POST",
        "webhook-faults",
        WEBHOOKS,
        "webhooks",
        "replaces how deliveries are mistreated: the faults now in force",
        args=(
            *(Number(share, 0.0, 1.0) for share in FAULT_SHARES),
            Number("delay_seconds", 1.0, 3600.0),
            SEED,
            Numbers(
                "retry_delays", 3600.0, note="seconds between a delivery's attempts, e.g. `[1, 2]`"
            ),
        ),
        act=_set_webhook_faults,
        answer=lambda server, faults: attrs.asdict(faults),
    ),
    Control(
        "GET",
        "webhook-deliveries",
        WEBHOOKS,
        "webhooks",
        '`{"counts": {"delivered" or "failed" or "dropped" or "refused" (not a loopback '
        'endpoint: never contacted) or "pending": n}, "dropped_job_ids": [...]}`',
        answer=_deliveries,
    ),
    Control(
        "GET",
        "stats",
        SEEN,
        "stats",
        '`{"requests", "in_flight", "max_in_flight", "by_route": {"GET /api/v2/classify": n, '
        "...}}`",
        answer=_stats,
    ),
    Control(
        "GET",
        "requests",
        SEEN,
        "requests",
        'the request log, oldest first: `{"total", "offset", "requests": [{"method", "path", '
        '"query": [[name, value], ...], "headers", "time", "route"}, ...]}`',
        args=(
            QueryInteger("offset", 0, MAX_COUNT * 100),
            QueryInteger("limit", MAX_LOG_PAGE, MAX_LOG_PAGE),
        ),
        act=_log_page,
    ),
    Control(
        "POST",
        "reset-stats",
        SEEN,
        "reset_stats",
        "empties the log; `max_in_flight` restarts from the requests in flight now",
        answer=lambda server, _: {},
    ),
)


# -- the docs --------------------------------------------------------------------------------


def _row(control: Control) -> str:
    if control.args:
        fields = ", ".join(arg.describe() for arg in control.args)
    else:
        fields = "none" if control.verb == "POST" else ""
    return f"| `{control.route}` |{' ' * bool(fields)}{fields} | {control.doc} |"


def markdown() -> str:
    """The docs' route tables, one per group, in the table's order."""
    groups = list(dict.fromkeys(control.group for control in CONTROLS))
    sections = [
        "\n".join(
            [group.intro, "", group.header, "|---|---|---|"]
            + [_row(control) for control in CONTROLS if control.group is group]
        )
        for group in groups
    ]
    return "\n\n".join(sections)
