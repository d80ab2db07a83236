"""Many callers, few requests: looks at single jobs, made by independent callers of one client,
share batched ``list`` calls (the DataLoader pattern of GraphQL servers, applied to polling too).

A look is one job id and the loop time it falls due. A ``Coalescer`` keeps, per event loop and
per scope, the looks not yet made (a scope is any hashable value the fetch functions read: the
client's holds the project / organization query and the options its requests go out with, so
only looks that would make the same request share one); when the earliest falls due, every look
due within ``window`` seconds of it goes out with it, as one request of at most ``batch_size``
ids (so a look may be made up to ``window`` early, never late). At most ``max_in_flight``
requests run at once per loop and scope; looks that fall due meanwhile wait for a slot and go
out together when one frees. A batch of one id is a plain ``GET`` of that job.

A look due now, on a loop and scope with nothing pending and nothing in flight, is made at once
by its caller (one ``GET``, no added delay): a lone ``get_job`` costs what it did.

``get_job`` uses a window of 0: calls gathered in one loop tick, or arriving while a request is
in flight, are batched. Waits use ``WAIT_WINDOW``: their looks, due at times each wait's own
interval sets, are drawn together when they fall due close to one another.

Each caller awaits its own future: it gets its record, ``not_found(job_id)`` when the batch did
not return its id, or the batch's error; cancelling it drops its look (and the request, when no
other caller waits on it). State is per event loop, so loops used one after another, or side by
side in threads, never share a future, a timer or a task; a loop's entry exists only while it
has looks waiting or in flight. When no look is left, nothing is scheduled and no task runs.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Generic, TypeVar

from attrs import define, field

__all__ = ["GET_WINDOW", "MAX_BATCH", "MAX_IN_FLIGHT", "WAIT_WINDOW", "Coalescer"]

_Item = TypeVar("_Item")
_Scope = TypeVar("_Scope", bound=Hashable)

GET_WINDOW = 0.0
"""``get_job`` calls are batched only when they are pending at the same time: no added delay."""

WAIT_WINDOW = 0.05
"""Seconds by which a wait's look may be made early to share a request with a look due first.
Small beside the shortest poll interval a wait would use, large beside the spread of looks that
started together and drifted apart by a few response times."""

MAX_BATCH = 100
"""Ids one request asks about (the service's largest page)."""

MAX_IN_FLIGHT = 8
"""Requests in flight at once per loop and scope (``get_jobs``' default concurrency)."""

FetchOne = Callable[[_Scope, str], Awaitable[_Item]]
"""One ``GET`` of a job in a scope."""
FetchMany = Callable[[_Scope, list[str]], Awaitable[Mapping[str, _Item]]]
"""A batched lookup of ids in a scope: the records the service returned, by id."""


@define(eq=False)
class _Look(Generic[_Item]):
    job_id: str
    due: float
    future: asyncio.Future[_Item]
    request: asyncio.Task[None] | None = None


@define(eq=False)
class _Queue(Generic[_Scope, _Item]):
    """One loop's looks not yet made, and requests in flight, for one scope."""

    loop: asyncio.AbstractEventLoop
    scope: _Scope
    heap: list[tuple[float, int, _Look[_Item]]] = field(factory=list)
    waiting: int = 0  # looks in ``heap`` whose caller still waits
    direct: int = 0  # looks made by their caller, in flight
    requests: dict[asyncio.Task[None], list[_Look[_Item]]] = field(factory=dict)
    timer: asyncio.TimerHandle | None = None

    @property
    def in_flight(self) -> int:
        return self.direct + len(self.requests)

    @property
    def idle(self) -> bool:
        return self.waiting == 0 and self.in_flight == 0


class Coalescer(Generic[_Scope, _Item]):
    """Batches the looks of independent callers of one client; see the module's docs."""

    def __init__(
        self,
        fetch_one: FetchOne[_Scope, _Item],
        fetch_many: FetchMany[_Scope, _Item],
        not_found: Callable[[str], Exception],
        *,
        window: float,
        max_in_flight: int = MAX_IN_FLIGHT,
        batch_size: int = MAX_BATCH,
    ) -> None:
        self._fetch_one = fetch_one
        self._fetch_many = fetch_many
        self._not_found = not_found
        self._window = window
        self._max_in_flight = max_in_flight
        self._batch_size = batch_size
        self._counter = itertools.count()
        self._lock = threading.Lock()  # loops in other threads add their own entries
        self._by_loop: dict[asyncio.AbstractEventLoop, dict[_Scope, _Queue[_Scope, _Item]]] = {}

    async def look(self, scope: _Scope, job_id: str, due: float | None = None) -> _Item:
        """The record of ``job_id``, looked at no earlier than ``window`` before loop time
        ``due`` (default: now)."""
        loop = asyncio.get_running_loop()
        queue = self._queue(loop, scope)
        now = loop.time()
        if (due is None or due <= now) and queue.idle:
            return await self._look_alone(queue, job_id)
        look: _Look[_Item] = _Look(job_id, now if due is None else due, loop.create_future())
        heapq.heappush(queue.heap, (look.due, next(self._counter), look))
        queue.waiting += 1
        self._arm(queue)
        try:
            return await look.future
        except asyncio.CancelledError:
            self._drop(queue, look)
            raise

    def busy(self) -> int:
        """How many scopes hold looks, requests or a timer on the running loop (0 when all is
        quiet: an idle scope, and a loop with none, is forgotten)."""
        with self._lock:
            return len(self._by_loop.get(asyncio.get_running_loop(), {}))

    def _queue(self, loop: asyncio.AbstractEventLoop, scope: _Scope) -> _Queue[_Scope, _Item]:
        with self._lock:
            queues = self._by_loop.setdefault(loop, {})
            queue = queues.get(scope)
            if queue is None:
                queue = queues[scope] = _Queue(loop, scope)
        return queue

    def _forget_if_idle(self, queue: _Queue[_Scope, _Item]) -> None:
        if queue.idle and queue.timer is None:
            with self._lock:
                queues = self._by_loop.get(queue.loop, {})
                if queues.get(queue.scope) is queue:
                    del queues[queue.scope]
                if not queues:
                    self._by_loop.pop(queue.loop, None)

    async def _look_alone(self, queue: _Queue[_Scope, _Item], job_id: str) -> _Item:
        queue.direct += 1
        try:
            return await self._fetch_one(queue.scope, job_id)
        finally:
            queue.direct -= 1
            self._arm(queue)
            self._forget_if_idle(queue)

    def _arm(self, queue: _Queue[_Scope, _Item]) -> None:
        """Have the earliest look sent when it falls due, if a request slot is free."""
        while queue.heap and queue.heap[0][2].future.done():  # dropped by its caller
            heapq.heappop(queue.heap)
        if queue.timer is not None:
            if queue.heap and queue.timer.when() <= queue.heap[0][0]:
                return
            queue.timer.cancel()
            queue.timer = None
        if queue.heap and queue.in_flight < self._max_in_flight:
            queue.timer = queue.loop.call_at(queue.heap[0][0], self._send_due, queue)

    def _send_due(self, queue: _Queue[_Scope, _Item]) -> None:
        """Send every look due within ``window`` of now, a batch per free slot."""
        queue.timer = None
        horizon = queue.loop.time() + self._window
        while queue.in_flight < self._max_in_flight and queue.heap and queue.heap[0][0] <= horizon:
            batch: dict[str, list[_Look[_Item]]] = {}
            while queue.heap and queue.heap[0][0] <= horizon:
                look = queue.heap[0][2]
                if look.job_id not in batch and len(batch) == self._batch_size:
                    break
                heapq.heappop(queue.heap)
                if not look.future.done():
                    batch.setdefault(look.job_id, []).append(look)
                    queue.waiting -= 1
            if batch:
                self._start_request(queue, batch)
        self._arm(queue)
        self._forget_if_idle(queue)

    def _start_request(
        self, queue: _Queue[_Scope, _Item], batch: dict[str, list[_Look[_Item]]]
    ) -> None:
        request = queue.loop.create_task(self._request(queue.scope, batch))
        looks = [look for looks in batch.values() for look in looks]
        for look in looks:
            look.request = request
        queue.requests[request] = looks

        def finished(task: asyncio.Task[None]) -> None:
            del queue.requests[task]
            if not task.cancelled():
                task.exception()  # ``_request`` hands every error to its callers
            self._arm(queue)
            self._forget_if_idle(queue)

        request.add_done_callback(finished)

    async def _request(self, scope: _Scope, batch: dict[str, list[_Look[_Item]]]) -> None:
        try:
            if len(batch) == 1:
                (job_id,) = batch
                found: Mapping[str, _Item] = {job_id: await self._fetch_one(scope, job_id)}
            else:
                found = await self._fetch_many(scope, list(batch))
        except asyncio.CancelledError:
            for looks in batch.values():
                for look in looks:
                    look.future.cancel()
            raise
        except Exception as error:  # each caller gets the batch's error
            for looks in batch.values():
                for look in looks:
                    if not look.future.done():
                        look.future.set_exception(error)
            return
        for job_id, looks in batch.items():
            record = found.get(job_id)
            for look in looks:
                if look.future.done():
                    continue
                if record is None:
                    look.future.set_exception(self._not_found(job_id))
                else:
                    look.future.set_result(record)

    def _drop(self, queue: _Queue[_Scope, _Item], look: _Look[_Item]) -> None:
        """A caller was cancelled: forget its look; cancel its request if nobody else waits."""
        if look.future.done() and not look.future.cancelled():
            look.future.exception()  # retrieved: it came as the caller was cancelled
        look.future.cancel()
        if look.request is None:
            queue.waiting -= 1
            self._arm(queue)
        elif all(other.future.done() for other in queue.requests.get(look.request, [])):
            look.request.cancel()
        self._forget_if_idle(queue)
