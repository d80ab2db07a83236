"""What a polling round reads of a page: every record checked as any listing checks it, but the
whole record built only for the jobs that have ended.

A round asks about every job still pending, and most of the answers are "still running" (in
``benchmarks/bench_poll.py``, three in four): building those records, only to drop them, was most
of a watch's CPU. So a page is first checked by ``conversion.check_page`` (the same checks as
``read_page``, into msgspec Structs that cost a fraction of the records), which also gives each
job's id and status; then, only if some status is terminal, the page is cut into its items' raw
bytes and just those records are decoded, by the fast path of ``conversion.read_job``.

A page that check refuses is read whole by ``conversion.read_page``, so a round raises exactly
the error, with the message, that listing the same page would.
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec
from attrs import frozen

from .._core.models import TERMINAL_STATUSES, ClassifyJob
from .conversion import check_page, read_checked_job, read_page

__all__ = ["Running", "StatusPage", "read_status_page"]


class Running(Protocol):
    """A job that has not ended, as a polling round saw it: its id and status."""

    @property
    def id(self) -> str: ...

    @property
    def status(self) -> str: ...


@frozen
class StatusPage:
    """A page as a polling round reads it: ``items`` holds the whole record (a ``ClassifyJob``)
    of each job that has ended and a ``Running`` for each job that has not."""

    items: tuple[ClassifyJob | Running, ...]
    next_page_token: str | None


class _Seen(msgspec.Struct, frozen=True):
    """A ``Running`` made from a record the exact path read."""

    id: str
    status: str


class _Parts(msgspec.Struct):
    items: list[msgspec.Raw]


_read_parts = msgspec.json.Decoder(_Parts)


def read_status_page(body: bytes) -> StatusPage:
    """A listing's response body, read as a polling round needs it (see the module's docs)."""
    shape = check_page(body)
    page = None if shape is None else _read_ended(body, shape)
    if page is not None:
        return page
    exact = read_page(body)
    return StatusPage(
        items=tuple(job if job.is_terminal else _Seen(job.id, job.status) for job in exact.items),
        next_page_token=exact.next_page_token,
    )


def _read_ended(body: bytes, shape: Any) -> StatusPage | None:
    """The page from its checked shape, with the records of the jobs that ended decoded from
    their own bytes; None if the fast path refuses one of them."""
    items: list[ClassifyJob | Running] = list(shape.items)
    ended = [index for index, job in enumerate(shape.items) if job.status in TERMINAL_STATUSES]
    if ended:
        parts = _read_parts.decode(body).items  # the same items: the body checked just above
        for index in ended:
            job = read_checked_job(parts[index])
            if job is None:
                return None
            items[index] = job
    return StatusPage(items=tuple(items), next_page_token=shape.next_page_token)
