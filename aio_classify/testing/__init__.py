# ruff: noqa: E501  (the route tables below are Markdown: one row a line, however long)
"""A fake LlamaCloud Classify v2 server for tests, benchmarks and demos.

``async with FakeClassifyServer(api_key="test-key", jobs=100) as server:`` serves 100 seeded jobs
at ``server.url``. ``aio-classify fake-server`` (or ``python -m aio_classify.testing``) runs it
standalone: it prints its URL and key, then serves until Ctrl-C, and the routes below drive it
from any language or a shell:

```console
aio-classify fake-server --port 8787 --jobs 100   # prints its URL and key; Ctrl-C stops it
# and, from another terminal:
AUTH='Authorization: Bearer test-key'; FAKE=http://127.0.0.1:8787/_fake
curl -s -H "$AUTH" -d '{"status": 429, "retry_after": 1, "count": 2}' $FAKE/fail-next
curl -s -H "$AUTH" -d '{"within": 5}' $FAKE/finish-later   # the seeded unfinished jobs
curl -s -H "$AUTH" -d '{"seconds": 0.05}' $FAKE/latency
curl -s -H "$AUTH" "$FAKE/requests?offset=0&limit=20"
```

## The admin routes (`/_fake/`)

Every route needs the API's own `Authorization: Bearer <key>` header, takes a JSON object (or no
body) and answers JSON. A bad body, or a field no route knows (a typo), is a 422 naming the field,
and nothing changes. Admin requests are not recorded, delayed or faulted. Each route does what the
`FakeClassifyServer` method of the same name does (`fail-next` is `fail_next`).

Jobs (moving a job by hand cancels the moves its lifecycle had scheduled):

| route | body fields (all optional unless marked) | what it does, and answers |
|---|---|---|
| `POST /_fake/seed` | `count` (1), `statuses` (`"PENDING"`, or weights such as `{"COMPLETED": 9, "FAILED": 1}`), `project_id`, `configuration_id` | adds realistic jobs: `{"ids": [...]}`, newest first |
| `POST /_fake/jobs/{job_id}/advance` | none | moves one job a step, PENDING to RUNNING to COMPLETED: the job; 404 unknown, 409 finished |
| `POST /_fake/jobs/{job_id}/status` | `status` (required), `error_message` | sets any status now (COMPLETED fills in a result): the job; 404 unknown |
| `POST /_fake/advance-all` | none | moves every unfinished job a step: `{"moved": {id: status}}` |
| `POST /_fake/finish-all` | `fail_ratio` (0..1; 0), `seed` (0) | ends every unfinished job now, COMPLETED or (that share) FAILED: `{"finished": {id: status}}` |
| `POST /_fake/finish-later` | `job_ids` (every unfinished job), `within` (0..86400; 10; seconds), `seed` (0), `fail_ratio` (0..1; 0) | each job ends at a random moment within `within` seconds, RUNNING halfway: `{"due": {id: epoch seconds}}` |
| `GET /_fake/terminal-times` | | when each job became terminal while served: `{id: epoch seconds}` |

Faults and latency (a fault waits for the next request matching its `method` and exact `path`, if given; faults are used oldest first; each route answers the faults still pending):

| route | body fields (all optional unless marked) | what it does, and answers |
|---|---|---|
| `POST /_fake/fail-next` | `status` (required; 100..599), `count` (1), `retry_after` (sent as `Retry-After`), `headers`, `body` (any JSON; default `{"detail": "Injected fault: HTTP <status>"}`), `method`, `path` | answers the next `count` requests with that status |
| `POST /_fake/drop-next` | `count` (1), `method`, `path` | closes the connection without an answer (aiohttp resends an idempotent request once by itself: `count: 2` reaches a client's retries) |
| `POST /_fake/malformed-next` | `count` (1), `body` (text; default `{"items": [`), `status` (100..599; 200), `content_type` (`application/json`), `method`, `path` | answers with that broken body |
| `GET /_fake/faults` | | `{"pending": [{"kind", "status", "method", "path"}, ...]}` |
| `POST /_fake/clear-faults` | none | drops every pending fault |
| `GET /_fake/latency` | | `{"seconds": ...}` added before each API request is answered |
| `POST /_fake/latency` | `seconds` (0..3600; 0) | sets it |

Rate limits (a token bucket per call kind, as `FakeClassifyServer.set_rate_limit`):

| route | body fields (all optional unless marked) | what it does, and answers |
|---|---|---|
| `POST /_fake/rate-limit` | `call` (required; `list`, `get`, `create`, `cancel` or `delete`), `rate` (required; requests a second, or `null` to lift the limit), `burst` (1), `hint` (`seconds`; also `ms` or `none`) | beyond the limit that call kind is answered 429 with that hint; answers as `GET` |
| `GET /_fake/rate-limit` | | `{"limits": {call: {"rate", "burst", "hint"}}, "answers": {call: {"allowed", "throttled"}}, "log": {call: [[time, throttled], ...]}}` |

Webhook deliveries (to the `webhook_configurations` of created jobs):

| route | body fields (all optional unless marked) | what it does, and answers |
|---|---|---|
| `POST /_fake/webhook-faults` | `drop` (0..1; 0), `duplicate` (0..1; 0), `delay` (0..1; 0), `reorder` (0..1; 0), `delay_seconds` (0..3600; 1), `seed` (0), `retry_delays` (seconds between a delivery's attempts, e.g. `[1, 2]`) | replaces how deliveries are mistreated: the faults now in force |
| `GET /_fake/webhook-deliveries` | | `{"counts": {"delivered" or "failed" or "dropped" or "refused" (not a loopback endpoint: never contacted) or "pending": n}, "dropped_job_ids": [...]}` |

What the server saw (API requests only):

| route | body fields | what it does, and answers |
|---|---|---|
| `GET /_fake/stats` | | `{"requests", "in_flight", "max_in_flight", "by_route": {"GET /api/v2/classify": n, ...}}` |
| `GET /_fake/requests` | `offset` (query; 0), `limit` (query; 10000) | the request log, oldest first: `{"total", "offset", "requests": [{"method", "path", "query": [[name, value], ...], "headers", "time", "route"}, ...]}` |
| `POST /_fake/reset-stats` | none | empties the log; `max_in_flight` restarts from the requests in flight now |
"""

from ._faults import RecordedRequest
from ._server import FakeClassifyServer, Lifecycle
from ._standalone import run_standalone

__all__ = ["FakeClassifyServer", "Lifecycle", "RecordedRequest", "run_standalone"]
