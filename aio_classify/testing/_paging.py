"""Opaque page tokens and page assembly (the filters themselves live in ``store``).

Pagination is keyset: a token holds the sort key of the last job served, so jobs created while a
client pages through a listing never cause repeats. A token also holds a fingerprint of the
filters it was made for; using it with other filters is a client bug, answered with 422.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json

from ._store import Filters, JobStore, Key


class BadToken(ValueError):
    """The page token does not decode, or belongs to another listing."""


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
    items = b",".join(job.raw(store.unserved) for job in reversed(jobs[start:end]))
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
