"""List filters, opaque page tokens and page assembly.

Pagination is keyset: a token holds the sort key of the last job served, so jobs created while a
client pages through a listing never cause repeats. A token also holds a fingerprint of the
filters it was made for; using it with other filters is a client bug, answered with 422.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import json

import attrs

from .store import Job, JobStore, Key


class BadToken(ValueError):
    """The page token does not decode, or belongs to another listing."""


@attrs.frozen
class Filters:
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
        fields = [*attrs.astuple(self)[:2], ids, *attrs.astuple(self)[3:]]
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:16]


def encode_token(key: Key, filters: Filters) -> str:
    payload = json.dumps([key[0], key[1], filters.fingerprint()], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_token(token: str, filters: Filters) -> Key:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created, job_id, fingerprint = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadToken("Invalid page token") from exc
    if not isinstance(created, int) or not isinstance(job_id, str):
        raise BadToken("Invalid page token")
    if fingerprint != filters.fingerprint():
        raise BadToken("Page token was issued for different filters")
    return created, job_id


def page_body(store: JobStore, filters: Filters, page_size: int, token: str | None) -> bytes:
    """One page of the listing as response bytes, assembled from each job's cached JSON."""
    keys, jobs = store.matching(filters)
    end = len(keys) if token is None else bisect.bisect_left(keys, decode_token(token, filters))
    start = max(0, end - page_size)
    items = b",".join(job.raw() for job in reversed(jobs[start:end]))
    next_token = encode_token(keys[start], filters) if start > 0 else None
    return b"".join(
        (
            b'{"items":[',
            items,
            b'],"next_page_token":',
            json.dumps(next_token).encode(),
            b',"total_size":',
            str(len(keys)).encode(),
            b"}",
        )
    )
