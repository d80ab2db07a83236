"""``FakeClassifyServer``: a real loopback HTTP server speaking the Classify v2 wire format.

The Python API seeds jobs, drives them through their lifecycle, injects faults and reads what the
server saw; the same controls are reachable over HTTP under ``/_fake/`` (see ``app.py``) for a
server running in another process.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Self

import attrs
from aiohttp import web

from . import _seed as gen
from ._app import build_app
from ._faults import TRUNCATED_JSON, Fault, FaultQueue, RecordedRequest, Stats
from ._parse_requests import canonical_uuid
from ._ratelimit import RateLimits
from ._store import Job, JobStore
from ._webhooks import WebhookDeliverer

#: The project of jobs created or seeded without one (a UUID, as the service's are).
DEFAULT_PROJECT_ID = "5f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b"
#: ``input_fields`` choices: the live service sends ``file_input`` (the spec's name); the
#: 2026-03 page called it ``document_input_value``; "both" sends the two.
INPUT_FIELDS = {
    "file_input": frozenset({"document_input_value"}),
    "document_input_value": frozenset({"file_input"}),
    "both": frozenset(),
}


@attrs.frozen
class Lifecycle:
    """How jobs created through ``POST`` move on their own: seconds after creation.

    Attributes:
        running_after: Seconds until a new job is RUNNING.
        finish_after: Seconds until it is COMPLETED (or FAILED).
        fail_ratio: Share of jobs that end FAILED instead of COMPLETED (decided by the
            server's seed).
    """

    running_after: float = 0.5
    finish_after: float = 2.0
    fail_ratio: float = 0.0


class FakeClassifyServer:
    """A fake Classify v2 service on a real loopback port, for tests, benchmarks and demos.

    Start it with ``async with FakeClassifyServer(api_key="test-key") as server:`` (or
    ``await server.start()`` and ``await server.close()``); point a client at ``server.url``.
    It checks the bearer token (401), validates queries and bodies (422) like the service,
    paginates with opaque tokens, and answers as the service's spec (2026-08) and the official
    SDK 2.19 say (see the README's "What the fake conforms to"). Everything it can be told here
    is also reachable over HTTP under ``/_fake/`` (see the testing guide), for a server running
    in another process.

    Args:
        api_key: The only bearer token it accepts.
        host: Where to listen; loopback by default.
        port: 0 picks a free port (read it back from ``url``).
        jobs: Seed this many realistic jobs at once (see ``seed_jobs``).
        seed: Seed of the random generator, so seeded jobs and ids repeat run after run.
        project_id: The project of seeded and created jobs (a UUID, as the service's are).
        lifecycle: How jobs created by ``POST`` move on their own; without it they stay
            PENDING until moved (``set_status``, ``finish_later``).
        latency: Seconds added to every wire-format request; may be changed while serving.
        input_fields: The input field's spelling in the jobs it serves: ``"file_input"`` (what
            the live service sends), ``"document_input_value"`` (the 2026-03 page) or
            ``"both"``, so code can be tested against both generations (``INPUT_FIELDS``).
    """

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        jobs: int = 0,
        seed: int = 0,
        project_id: str = DEFAULT_PROJECT_ID,
        lifecycle: Lifecycle | None = None,
        latency: float = 0.0,
        input_fields: str = "file_input",
    ) -> None:
        if input_fields not in INPUT_FIELDS:
            raise ValueError(f"input_fields must be one of {sorted(INPUT_FIELDS)}")
        self.api_key = api_key
        self.host = host
        self.project_id = _project_uuid(project_id)
        self.lifecycle = lifecycle
        #: Seconds added to every wire-format request; may be changed while serving.
        self.latency = latency
        self.store = JobStore(unserved=INPUT_FIELDS[input_fields] | {"usage"})
        #: Webhook deliveries for jobs created with ``webhook_configurations`` (faults, log).
        self.webhooks = WebhookDeliverer(self.store)
        self.store.on_change = self.webhooks.job_changed
        self.faults = FaultQueue()
        self.rate_limits = RateLimits()
        self.stats = Stats()
        self._rng = random.Random(seed)
        self.user_id = gen.new_id(self._rng, "usr")
        self._port = port
        self._last_created = 0.0
        self._runner: web.AppRunner | None = None
        self._closed = False
        if jobs:
            self.seed_jobs(jobs)

    # -- serving ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to give a client, e.g. ``http://127.0.0.1:43117``.

        Raises:
            RuntimeError: the server is not running.
        """
        if self._runner is None:
            raise RuntimeError("the fake server is not running; call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal
        return f"http://{host}:{self._port}"

    async def start(self) -> None:
        """Start serving (``async with`` does this); a second call does nothing.

        Raises:
            RuntimeError: the server was closed; a closed server cannot be restarted.
            OSError: the port is taken.
        """
        if self._closed:
            raise RuntimeError("a closed fake server cannot be restarted")
        if self._runner is not None:
            return
        runner = web.AppRunner(build_app(self), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._runner = runner
        await self.webhooks.start()

    async def close(self) -> None:
        """Stop serving and close every connection; later calls do nothing."""
        self._closed = True
        await self.webhooks.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- jobs ------------------------------------------------------------------------------

    def seed_jobs(
        self,
        count: int,
        *,
        statuses: str | Mapping[str, float] | None = None,
        project_id: str | None = None,
        configuration_id: str | None = None,
        span: float = 30 * 86400.0,
        before: float | None = None,
    ) -> list[str]:
        """Add ``count`` realistic jobs created during the ``span`` seconds before ``before``
        (default now); return their ids newest first, the listing order.

        ``statuses`` is one status for all, or weights such as ``{"COMPLETED": 9, "FAILED": 1}``;
        by default a realistic mix, mostly COMPLETED.
        """
        rng = self._rng
        project_id = self.project_id if project_id is None else _project_uuid(project_id)
        weights = {statuses: 1.0} if isinstance(statuses, str) else statuses or gen.STATUS_MIX
        chosen = rng.choices(list(weights), list(weights.values()), k=count)
        end = time.time() if before is None else before
        offsets = sorted(rng.uniform(0.0, span) for _ in range(count))
        records = [
            gen.seeded_job(
                rng,
                created=end - offset,
                status=status,
                project_id=project_id,
                user_id=self.user_id,
                configuration_id=configuration_id,
            )
            for offset, status in zip(offsets, chosen, strict=True)
        ]
        self.store.add(records)
        return [r["id"] for r in records]

    def add_job(self, **overrides: Any) -> dict[str, Any]:
        """Add one job, created now, with any fields replaced (even to invalid values such as
        ``status="QUEUED"``); a key set to ``...`` is removed. Returns the job as served."""
        status = overrides.get("status")
        data = gen.seeded_job(
            self._rng,
            created=self._next_created(),
            status=status if status in gen.TERMINAL | {"RUNNING"} else "PENDING",
            project_id=self.project_id,
            user_id=self.user_id,
            configuration_id=None,
        )
        data["updated_at"] = data["created_at"]
        data.update(overrides)
        for key in [k for k, v in overrides.items() if v is ...]:
            del data[key]
        data.setdefault("id", gen.new_id(self._rng, "cls"))
        (job,) = self.store.add([data])
        return self._copy(job)

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
    ) -> Job:
        """What ``POST /api/v2/classify`` does once the body is valid: a reused transaction id
        returns the original job; a new job follows ``lifecycle`` if one is set. Webhook
        configurations are kept on the stored job (``Job.webhook_configurations``)."""
        project_id = self.project_id if project_id is None else _project_uuid(project_id)
        if transaction_id is not None:
            existing = self.store.by_transaction(project_id, transaction_id)
            if existing is not None:
                return existing
        created = self._next_created()
        data = gen.new_job(
            job_id=gen.new_id(self._rng, "cls"),
            file_input=file_input,
            configuration=configuration or gen.configuration_for(configuration_id or ""),
            configuration_id=configuration_id,
            project_id=project_id,
            user_id=self.user_id,
            created=created,
            transaction_id=transaction_id,
        )
        (job,) = self.store.add([data])
        job.webhook_configurations = tuple(dict(webhook) for webhook in webhook_configurations)
        job.webhook_configuration_ids = tuple(webhook_configuration_ids)
        self.webhooks.job_changed(job, "PENDING", created)
        if self.lifecycle is not None:
            life = self.lifecycle
            final = _final_status(self._rng, life.fail_ratio)
            steps = [
                (created + life.running_after, "RUNNING"),
                (created + life.finish_after, final),
            ]
            self.store.schedule(job, steps)
        return job

    def job(self, job_id: str) -> dict[str, Any] | None:
        """A copy of the job as the server would send it now, or None."""
        job = self.store.get(job_id)
        return None if job is None else self._copy(job)

    @property
    def job_ids(self) -> list[str]:
        """Every job id, newest first (the listing order)."""
        return [key[1] for key in reversed(self.store.order)]

    def set_status(
        self, job_id: str, status: str, *, error_message: str | None = None
    ) -> dict[str, Any]:
        """Move a job now (cancelling any scheduled steps); COMPLETED fills in the result."""
        job = self._get(job_id)
        self.store.set_status(job, status, error_message)
        return self._copy(job)

    def complete(self, job_id: str) -> dict[str, Any]:
        """Move a job to COMPLETED now, with a result; returns the job as served."""
        return self.set_status(job_id, "COMPLETED")

    def fail(self, job_id: str, message: str = "Classification failed") -> dict[str, Any]:
        """Move a job to FAILED now, with ``message`` as its ``error_message``."""
        return self.set_status(job_id, "FAILED", error_message=message)

    def advance(self, job_id: str) -> dict[str, Any]:
        """Move one job to its next state now: PENDING (or any unknown non-terminal status) to
        RUNNING, RUNNING to COMPLETED. ``KeyError`` for an unknown job, ``ValueError`` for a
        finished one. Like every move by hand, it cancels the job's scheduled lifecycle steps."""
        job = self._get(job_id)
        status = job.data.get("status")
        if status in gen.TERMINAL:
            raise ValueError(f"job {job_id} is already {status}")
        self.store.set_status(job, "COMPLETED" if status == "RUNNING" else "RUNNING")
        return self._copy(job)

    def advance_all(self) -> dict[str, str]:
        """Move every unfinished job one step (see ``advance``); returns each new status."""
        return {job_id: self.advance(job_id)["status"] for job_id in self.unfinished_job_ids}

    def finish_all(self, *, fail_ratio: float = 0.0, seed: int = 0) -> dict[str, str]:
        """End every unfinished job now: COMPLETED, or FAILED for a share ``fail_ratio`` of them
        (chosen by ``seed``). Returns each job's final status."""
        rng = random.Random(seed)
        return {
            job_id: self.set_status(job_id, _final_status(rng, fail_ratio))["status"]
            for job_id in self.unfinished_job_ids
        }

    @property
    def unfinished_job_ids(self) -> list[str]:
        """Ids of the jobs not yet COMPLETED, FAILED or CANCELLED, newest first."""
        self.store.advance()
        jobs = self.store.jobs
        return [i for i in self.job_ids if jobs[i].data.get("status") not in gen.TERMINAL]

    def finish_later(
        self,
        job_ids: Iterable[str],
        *,
        within: float = 10.0,
        seed: int = 0,
        fail_ratio: float = 0.0,
    ) -> dict[str, float]:
        """Give each unfinished job a random terminal time in (0, within] seconds from now,
        RUNNING halfway there. Unknown and finished jobs are skipped. Returns the due times."""
        rng = random.Random(seed)
        now = time.time()
        due: dict[str, float] = {}
        for job_id in job_ids:
            job = self.store.get(job_id)
            if job is None or job.data.get("status") in gen.TERMINAL:
                continue
            delay = within * (1.0 - rng.random())
            final = _final_status(rng, fail_ratio)
            self.store.schedule(job, [(now + delay / 2, "RUNNING"), (now + delay, final)])
            due[job_id] = now + delay
        return due

    def terminal_times(self) -> dict[str, float]:
        """When each job became terminal while served (epoch seconds); seeded ones excluded."""
        return self.store.terminal_times()

    # -- faults ----------------------------------------------------------------------------

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
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` (e.g. 503, or 429 with
        ``retry_after=1``, sent as the ``Retry-After`` header) and a JSON ``detail`` body unless
        one is given. ``method`` and ``path`` (exact, e.g. ``/api/v2/classify``) narrow which
        requests the fault waits for."""
        payload = {"detail": f"Injected fault: HTTP {status}"} if body is None else body
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        all_headers = dict(headers or {})
        if retry_after is not None:
            all_headers["Retry-After"] = str(retry_after)
        fault = Fault("status", status, all_headers, raw, method=method, path=path)
        self.faults.push(fault, count)

    def drop_next(
        self, count: int = 1, *, method: str | None = None, path: str | None = None
    ) -> None:
        """Close the connection of the next ``count`` matching requests without answering.
        aiohttp clients resend an idempotent request once on a dropped kept-alive connection,
        so reaching a client's own retry code takes ``drop_next(2)``."""
        self.faults.push(Fault("drop", method=method, path=path), count)

    def malformed_next(
        self,
        count: int = 1,
        *,
        body: bytes = TRUNCATED_JSON,
        status: int = 200,
        content_type: str = "application/json",
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``body`` as it is (by default a
        truncated JSON document), to test what a client does with a broken response."""
        fault = Fault("malformed", status, {}, body, content_type, method, path)
        self.faults.push(fault, count)

    def clear_faults(self) -> None:
        """Forget every injected fault not yet consumed."""
        self.faults.clear()

    def set_rate_limit(
        self, call: str, rate: float | None, *, burst: float = 1.0, hint: str = "seconds"
    ) -> None:
        """Allow ``call`` ("list", "get", "create", "cancel" or "delete") ``rate`` requests a
        second with bursts of up to ``burst`` (a token bucket, full at first); beyond that it
        answers 429 with ``hint``: ``"seconds"`` (``Retry-After``, whole seconds rounded up),
        ``"ms"`` (``retry-after-ms``) or ``"none"``. ``rate=None`` lifts the limit. What each
        limited route answered is in ``rate_limit_log``."""
        self.rate_limits.set(call, rate, burst=burst, hint=hint)

    @property
    def rate_limit_log(self) -> dict[str, list[tuple[float, bool]]]:
        """Per call kind: ``(arrival time, throttled)`` of every request its limit judged."""
        return self.rate_limits.log

    # -- observations ----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Wire-format requests received since the last ``reset_stats()`` (admin ones excluded)."""
        return self.stats.requests

    @property
    def in_flight(self) -> int:
        """Wire-format requests being answered right now."""
        return self.stats.in_flight

    @property
    def max_in_flight(self) -> int:
        """The most wire-format requests answered at once since the last ``reset_stats()``."""
        return self.stats.max_in_flight

    def reset_stats(self) -> None:
        """Forget the request log and the in-flight peak (seeding and faults stay)."""
        self.stats.reset()
        self.rate_limits.log.clear()

    # -- helpers ---------------------------------------------------------------------------

    def _get(self, job_id: str) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def _next_created(self) -> float:
        """Now, but at least 1 ms after the last job made here, so newest-first is exact."""
        self._last_created = max(round(time.time(), 3), round(self._last_created + 0.001, 3))
        return self._last_created

    def _copy(self, job: Job) -> dict[str, Any]:
        """The job as served with ``expand=usage``."""
        result: dict[str, Any] = json.loads(job.raw(self.store.unserved - {"usage"}))
        return result


def _final_status(rng: random.Random, fail_ratio: float) -> str:
    """How a job ends: FAILED with probability ``fail_ratio``, else COMPLETED."""
    return "FAILED" if rng.random() < fail_ratio else "COMPLETED"


def _project_uuid(project_id: str) -> str:
    checked = canonical_uuid(project_id)
    if checked is None:
        raise ValueError(f"project_id must be a UUID, as the service's are; got {project_id!r}")
    return checked
