"""Job records and pages every reader must take or refuse alike, as hypothesis strategies, and
how to compare what two readers made: shared by the fast path's tests and the polling round's
status pages."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import attrs
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from aio_classify import ClassifyError
from aio_classify._decode.conversion import structure_job, structure_page
from aio_classify._decode.strict_json import BodyNotJSONError, json_body

BASE_JOB: dict[str, Any] = {
    "id": "cls-1",
    "configuration": {
        "rules": [
            {"type": "invoice", "description": "Has an invoice number and a total amount due."},
            {"type": "receipt", "description": "Proof of purchase listing items and taxes."},
        ],
        "mode": "FAST",
        "parsing_configuration": {"lang": "en", "max_pages": 5, "target_pages": "1,3,5-7"},
    },
    "document_input_type": "file_id",
    "document_input_value": "dfl-invoice-2024-01-0001.pdf",
    "file_input": "dfl-invoice-2024-01-0001.pdf",
    "project_id": "7c1f6a52-6b1e-4a43-9a3e-0d7f8c2b1a11",
    "status": "COMPLETED",
    "user_id": "usr-1",
    "configuration_id": None,
    "created_at": "2026-03-01T10:00:00.123Z",
    "updated_at": "2026-03-01T10:00:05.456Z",
    "error_message": None,
    "parse_job_id": "pjb-1",
    "result": {"confidence": 0.93, "reasoning": "It mentions 'invoice'.", "type": "invoice"},
    "transaction_id": "tx-1",
    "usage": {"credits": 1.5, "parse_credits": 1},
}

#: How hard hypothesis tries the readers: they are cheap, and odd cases are rare.
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Date texts both paths read, in the shapes servers write them.
GOOD_DATES = [
    "2026-03-01T10:00:00.123Z",
    "2026-03-01T10:00:00Z",
    "2026-03-01T10:00:00",  # naive: taken as UTC
    "2026-03-01T10:00:00+02:00",
    "2026-03-01T10:00:00.123456-05:30",
    "2026-03-01 10:00:00+00:00",
    "2026-03-01T10:00:00.1234567Z",  # 7 fraction digits: fromisoformat truncates
    "2026-03-01T10:00:00+0200",
    "2026-03-01T10:00Z",
    "2026-03-01",
    "20260301T100000Z",
    "2026-W09-1T10:00:00Z",
]
#: Date texts, and values, the exact path refuses (``fromisoformat`` or its type check).
BAD_DATES: list[Any] = ["not-a-date", "", "2026-03-01t10:00:00z", "2026-13-01T00:00:00Z", 17, []]
STATUSES = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "QUEUED", "completed", ""]
MODES: list[Any] = ["FAST", "ACCURATE", "", None]

json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
extra_keys = st.dictionaries(
    st.text(min_size=1, max_size=12).filter(lambda key: key not in BASE_JOB),
    json_values,
    max_size=3,
)
numbers = st.integers(-5, 5) | st.floats(-2, 2, allow_nan=False) | st.none()


@st.composite
def odd_jobs(draw: st.DrawFn) -> dict[str, Any]:
    """A job every path must read: keys dropped or null, unknown enums, odd dates, extra keys,
    either or both input-field spellings, usage present or absent, ints where floats go."""
    job = json.loads(json.dumps(BASE_JOB))
    for key in draw(st.sets(st.sampled_from(sorted(set(job) - {"id", "status"})))):
        if draw(st.booleans()):
            del job[key]
        else:
            job[key] = None
    job["status"] = draw(st.sampled_from(STATUSES))
    for key in ("created_at", "updated_at"):
        if job.get(key) is not None:
            job[key] = draw(st.sampled_from(GOOD_DATES))
    if job.get("configuration") is not None:
        job["configuration"]["mode"] = draw(st.sampled_from(MODES))
        if draw(st.booleans()):
            del job["configuration"]["mode"]
        job["configuration"]["rules"] = job["configuration"]["rules"][: draw(st.integers(0, 2))]
    spelling = draw(st.sampled_from(["both", "file_input", "document_input_value", "differ"]))
    if spelling in ("file_input", "document_input_value"):
        job.pop("document_input_value" if spelling == "file_input" else "file_input", None)
    elif spelling == "differ" and "file_input" in job:
        job["file_input"] = "dfl-other.pdf"
    if job.get("result") is not None:
        job["result"]["confidence"] = draw(numbers)
    if job.get("usage") is not None:
        job["usage"] = {"credits": draw(numbers), "parse_credits": draw(numbers)}
    job.update(draw(extra_keys))
    return job


@st.composite
def hostile_jobs(draw: st.DrawFn) -> Any:
    """An odd job with one field made wrong (type, date, required key), or any JSON at all."""
    job = draw(odd_jobs())
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return draw(json_values)
    if choice == 1:
        job.pop(draw(st.sampled_from(["id", "status"])))
    elif choice == 2:
        job[draw(st.sampled_from(["created_at", "updated_at"]))] = draw(st.sampled_from(BAD_DATES))
    else:
        path = draw(
            st.sampled_from(
                [
                    ("id",),
                    ("status",),
                    ("project_id",),
                    ("configuration",),
                    ("configuration", "rules"),
                    ("configuration", "mode"),
                    ("configuration", "parsing_configuration", "max_pages"),
                    ("result",),
                    ("result", "confidence"),
                    ("usage", "credits"),
                    ("file_input",),
                ]
            )
        )
        target = job
        for key in path[:-1]:
            target = target.setdefault(key, {}) if isinstance(target, dict) else {}
        if isinstance(target, dict):
            target[path[-1]] = draw(json_values)
    return job


def page_body(items: Any, extra: dict[str, Any]) -> bytes:
    return json.dumps({"items": items, "next_page_token": "t", "total_size": 9, **extra}).encode()


def identical(fast: Any, exact: Any) -> bool:
    """Equal, with the same types everywhere and datetimes in the same zone."""
    if type(fast) is not type(exact):
        return False
    if attrs.has(type(fast)):
        return all(
            identical(getattr(fast, field.name), getattr(exact, field.name))
            for field in attrs.fields(type(fast))
        )
    if isinstance(fast, tuple):
        return len(fast) == len(exact) and all(map(identical, fast, exact))
    if isinstance(fast, datetime):
        return fast == exact and fast.utcoffset() == exact.utcoffset() and fast.tzinfo is not None
    if isinstance(fast, float) and math.isnan(fast):
        return math.isnan(exact)
    return bool(fast == exact)


def exact_page(body: bytes) -> Any:
    """The exact path's outcome: the page, or the error it raises (never anything else)."""
    try:
        return structure_page(json_body(body))
    except (
        ClassifyError,
        BodyNotJSONError,
    ) as exc:  # the transport names the request for the latter
        return exc


def exact_job(body: bytes) -> Any:
    try:
        return structure_job(json_body(body))
    except (ClassifyError, BodyNotJSONError) as exc:
        return exc


@st.composite
def hostile_pages(draw: st.DrawFn) -> bytes:
    """A page body of odd and hostile jobs, its own keys maybe replaced by any JSON at all."""
    jobs = draw(st.lists(hostile_jobs(), max_size=3))
    keys = st.sampled_from(["items", "next_page_token", "total_size"])
    return page_body(jobs, draw(st.dictionaries(keys, json_values)))
