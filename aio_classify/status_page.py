"""What a polling round reads of a page: each job's id and status, and the whole record only of
the jobs that have ended.

A round asks about every job still pending, and most of the answers are "still running" (in
``benchmarks/bench_poll.py``, three in four): building those records, only to drop them, was most
of a watch's CPU. So a page is read in two passes that build no dicts: msgspec decodes each item
as just ``{id, status}``, then, only if some status is terminal, cuts the page into its items'
raw bytes and decodes just those records, by the fast path of ``conversion.read_job``.

Whatever that cannot take (bytes ``json.loads`` refuses, an item without a text ``id`` or
``status``, a terminal record the fast path refuses) is read whole by ``conversion.read_page``,
so errors and messages are those of any listing. A job still running is not read beyond its id
and status: a bad field in its record is an error once the job has ended, not before.
"""

from __future__ import annotations

import msgspec
from attrs import frozen

from .conversion import read_checked_job, read_page
from .fast_decode import json_loads_refuses
from .models import TERMINAL_STATUSES, ClassifyJob

__all__ = ["Running", "StatusPage", "read_status_page"]


class Running(msgspec.Struct, frozen=True):
    """A job that has not ended, as a polling round saw it: only its id and status were read."""

    id: str
    status: str


@frozen
class StatusPage:
    """A page as a polling round reads it: ``items`` holds the whole record of each job that has
    ended (its status is terminal) and a ``Running`` for each job that has not."""

    items: tuple[ClassifyJob | Running, ...]
    next_page_token: str | None


class _Statuses(msgspec.Struct):
    items: list[Running]
    next_page_token: str | None = None
    total_size: int | None = None  # not kept, but checked as ``read_page`` checks it


class _Parts(msgspec.Struct):
    items: list[msgspec.Raw]


_read_statuses = msgspec.json.Decoder(_Statuses)
_read_parts = msgspec.json.Decoder(_Parts)


def read_status_page(body: bytes) -> StatusPage:
    """A listing's response body, read as a polling round needs it (see the module's docs)."""
    page = None if json_loads_refuses(body) else _read_fast(body)
    if page is not None:
        return page
    exact = read_page(body)
    return StatusPage(
        items=tuple(
            job if job.is_terminal else Running(job.id, str(job.status)) for job in exact.items
        ),
        next_page_token=exact.next_page_token,
    )


def _read_fast(body: bytes) -> StatusPage | None:
    try:
        statuses = _read_statuses.decode(body)
    except msgspec.DecodeError:  # ValidationError too
        return None
    items: list[ClassifyJob | Running] = list(statuses.items)
    ended = [index for index, job in enumerate(statuses.items) if job.status in TERMINAL_STATUSES]
    if ended:
        parts = _read_parts.decode(body).items  # the same items: the body decoded just above
        for index in ended:
            job = read_checked_job(parts[index])
            if job is None:
                return None
            items[index] = job
    return StatusPage(items=tuple(items), next_page_token=statuses.next_page_token)
