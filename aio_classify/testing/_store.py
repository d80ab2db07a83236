"""The jobs: records, creation order, listing filters, lazy lifecycle, serialized-JSON cache.

Each job keeps its JSON bytes until it changes, so listing pages is joining bytes. Lifecycle steps
sit in a heap of due times and are applied when anything reads the store, so no background task
is needed and a test that never reads sees nothing move.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import json
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import attrs

from . import _seed as seed

#: Sort key of a job: (created_at in epoch microseconds, id). Listings run newest first.
Key = tuple[int, str]


def epoch_us(text: str) -> int:
    """An ISO 8601 date-time (naive means UTC) in epoch microseconds; ``ValueError`` if bad."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


def created_us(value: object) -> int:
    """The sort position of a ``created_at`` value; unparsable or missing sorts oldest."""
    try:
        return epoch_us(value) if isinstance(value, str) else 0
    except ValueError:
        return 0


@attrs.define
class Job:
    data: dict[str, Any]
    key: Key
    #: Wall-clock time it became terminal while served (not set for jobs seeded as terminal).
    terminal_at: float | None = None
    #: Bumped whenever the schedule is replaced, so stale heap entries are ignored.
    generation: int = 0
    raw_cache: bytes | None = None
    #: Inline webhook endpoints given at creation (each a dict of the five ``webhook_*``
    #: fields), and ids of saved ones: not part of the job's JSON, kept for deliveries.
    webhook_configurations: tuple[dict[str, Any], ...] = ()
    webhook_configuration_ids: tuple[str, ...] = ()

    #: The keys left out of ``raw_cache``.
    raw_omits: frozenset[str] = frozenset()

    def raw(self, omit: frozenset[str] = frozenset()) -> bytes:
        """The job's JSON without the keys in ``omit``; cached for the last ``omit`` asked."""
        if self.raw_cache is None or omit != self.raw_omits:
            served = {k: v for k, v in self.data.items() if k not in omit} if omit else self.data
            self.raw_cache = json.dumps(served, separators=(",", ":")).encode()
            self.raw_omits = omit
        return self.raw_cache


@attrs.frozen
class Filters:
    """What a listing asks for; ``matches`` is applied by ``JobStore.matching``."""

    status: str | None = None
    configuration_id: str | None = None
    job_ids: tuple[str, ...] | None = None
    #: Inclusive bounds on created_at, in epoch microseconds.
    after_us: int | None = None
    before_us: int | None = None
    project_id: str | None = None
    organization_id: str | None = None

    def matches(self, job: Job) -> bool:
        data = job.data
        created = job.key[0]
        return (
            (self.status is None or data.get("status") == self.status)
            and (
                self.configuration_id is None
                or data.get("configuration_id") == self.configuration_id
            )
            and (self.project_id is None or data.get("project_id") == self.project_id)
            and (self.after_us is None or created >= self.after_us)
            and (self.before_us is None or created <= self.before_us)
        )

    def fingerprint(self) -> str:
        ids = sorted(self.job_ids) if self.job_ids is not None else None
        values = attrs.astuple(self)
        fields = [*values[:2], ids, *values[3:]]
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:16]


@attrs.define
class JobStore:
    clock: Callable[[], float] = time.time
    #: Called as ``on_change(job, status, at)`` after every status change (webhook deliveries).
    on_change: Callable[[Job, str, float], None] | None = None
    jobs: dict[str, Job] = attrs.field(factory=dict)
    #: Every job key, ascending; listings walk it backwards.
    order: list[Key] = attrs.field(factory=list)
    #: Bumped on every change; invalidates cached filter results.
    version: int = 0
    #: Keys every job holds but the server leaves out unless asked (``usage`` without
    #: ``expand=usage``; the input-field spelling it does not emit).
    unserved: frozenset[str] = frozenset()
    _by_transaction: dict[tuple[str, str], str] = attrs.field(factory=dict)
    _heap: list[tuple[float, int, str, int, str]] = attrs.field(factory=list)
    _seq: int = 0
    _matches: dict[Filters, tuple[int, list[Key], list[Job]]] = attrs.field(factory=dict)

    def add(self, records: Iterable[dict[str, Any]]) -> list[Job]:
        added = []
        for data in records:
            job = Job(data, (created_us(data.get("created_at")), str(data["id"])))
            if job.key[1] in self.jobs:
                self.remove(job.key[1])
            self.jobs[job.key[1]] = job
            self.order.append(job.key)
            txn = data.get("transaction_id")
            if isinstance(txn, str):
                self._by_transaction[(str(data.get("project_id")), txn)] = job.key[1]
            added.append(job)
        self.order.sort()
        self.version += 1
        return added

    def remove(self, job_id: str) -> Job | None:
        job = self.jobs.pop(job_id, None)
        if job is not None:
            self.order.remove(job.key)
            txn = (str(job.data.get("project_id")), str(job.data.get("transaction_id")))
            if self._by_transaction.get(txn) == job_id:
                del self._by_transaction[txn]
            job.generation += 1
            self.version += 1
        return job

    def get(self, job_id: str) -> Job | None:
        self.advance()
        return self.jobs.get(job_id)

    def by_transaction(self, project_id: str, transaction_id: str) -> Job | None:
        job_id = self._by_transaction.get((project_id, transaction_id))
        return self.get(job_id) if job_id else None

    def set_status(
        self, job: Job, status: str, error_message: str | None = None, at: float | None = None
    ) -> None:
        """Move a job now (or at ``at``, for lifecycle steps); cancels any pending schedule."""
        job.generation += 1
        self._apply(job, status, error_message, self.clock() if at is None else at)

    def schedule(self, job: Job, steps: Iterable[tuple[float, str]]) -> None:
        """Replace the job's future: (due epoch seconds, status) steps applied once due."""
        job.generation += 1
        for due, status in steps:
            self._seq += 1
            heapq.heappush(self._heap, (due, self._seq, job.key[1], job.generation, status))

    def advance(self) -> None:
        """Apply every lifecycle step that is due, stamped with its due time."""
        now = self.clock()
        while self._heap and self._heap[0][0] <= now:
            due, _, job_id, generation, status = heapq.heappop(self._heap)
            job = self.jobs.get(job_id)
            if job is not None and job.generation == generation:
                self._apply(job, status, None, due)

    def matching(self, filters: Filters) -> tuple[list[Key], list[Job]]:
        """Keys and jobs that pass ``filters``, ascending; cached until the store changes."""
        self.advance()
        cached = self._matches.get(filters)
        if cached is not None and cached[0] == self.version:
            return cached[1], cached[2]
        if filters.job_ids is not None:
            found = (self.jobs.get(i) for i in set(filters.job_ids))
            candidates = sorted((j for j in found if j is not None), key=lambda j: j.key)
        else:  # ``order`` is sorted by creation time: a date range is a slice of it
            low = (
                0
                if filters.after_us is None
                else bisect.bisect_left(self.order, (filters.after_us, ""))
            )
            high = (
                len(self.order)
                if filters.before_us is None
                else bisect.bisect_left(self.order, (filters.before_us + 1, ""))
            )
            candidates = [self.jobs[key[1]] for key in self.order[low:high]]
        jobs = [j for j in candidates if filters.matches(j)]
        keys = [j.key for j in jobs]
        if filters.job_ids is None:  # id lists rarely repeat; caching them would only grow
            if len(self._matches) > 32:
                self._matches.clear()
            self._matches[filters] = (self.version, keys, jobs)
        return keys, jobs

    def terminal_times(self) -> dict[str, float]:
        self.advance()
        return {i: j.terminal_at for i, j in self.jobs.items() if j.terminal_at is not None}

    def _apply(self, job: Job, status: str, error_message: str | None, at: float) -> None:
        seed.finish(job.data, status, error_message)
        job.data["updated_at"] = seed.iso(at)
        job.terminal_at = at if status in seed.TERMINAL else None
        job.raw_cache = None
        self.version += 1
        if self.on_change is not None:
            self.on_change(job, status, at)
