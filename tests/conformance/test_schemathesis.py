"""schemathesis (every check, a fixed seed) against the standalone fake, for every operation in
the spec file; what it finds is either fixed in the fake or explained in ``allowlist``."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from allowlist import ALLOWED, CANCEL, CREATE, GET, LIST
from hypothesis import strategies as st
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SPEC = HERE / "classify-v2.openapi.json"
API_KEY = "conformance-key"
#: Examples per operation and generation mode (positive, negative), on top of the explicit
#: examples and the coverage phase's boundary values.
MAX_EXAMPLES = 100

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20260801,
        "auth": {"openapi": {"HTTPBearer": {"bearer": API_KEY}}},
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
        },
    }
)
schema = schemathesis.openapi.from_path(SPEC, config=CONFIG)
load_all_checks()
EVERY_CHECK = CHECKS.get_all()

#: Ids of the jobs the fake was seeded with: a path's job_id is drawn from them or generated.
SEEDED_IDS: list[str] = []
#: Allow-list entry index -> how many failures it explained.
EXPLAINED: collections.Counter[int] = collections.Counter()
RAN: set[str] = set()
#: Operations with a failure no entry explained (reported by the test itself).
UNEXPLAINED: list[str] = []


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    """``python -m aio_classify.testing`` in its own process, seeded with jobs of every status."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "aio_classify.testing", "--port", "0"]
    command += ["--api-key", API_KEY, "--jobs", "40", "--seed", "3"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": path}
    )
    assert process.stdout is not None
    try:
        url = process.stdout.readline().strip()
        process.stdout.readline()
        request = urllib.request.Request(
            f"{url}/api/v2/classify?page_size=100", headers={"Authorization": f"Bearer {API_KEY}"}
        )
        with urllib.request.urlopen(request) as answer:
            SEEDED_IDS[:] = [job["id"] for job in json.load(answer)["items"]]
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
    if {LIST, CREATE, GET, CANCEL} == RAN and not UNEXPLAINED:  # a whole, passing run
        unused = [entry.reason for index, entry in enumerate(ALLOWED) if not EXPLAINED[index]]
        assert not unused, f"allow-list entries no failure needed: {unused}"


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """Half the time a seeded job, so answers about real jobs (200, 409) are checked too."""
    if not path_parameters or "job_id" not in path_parameters or not SEEDED_IDS:
        return st.just(path_parameters)
    ids = st.sampled_from(SEEDED_IDS)
    return st.one_of(st.just(path_parameters), ids.map(lambda i: {**path_parameters, "job_id": i}))


@schema.hook
def map_case(context: Any, case: schemathesis.Case) -> schemathesis.Case:
    """Most valid create bodies lack a file input or carry both configuration kinds, which
    the fake rightly refuses (see ``allowlist``), or reuse the spec's example transaction id,
    which returns the job made first; give those with a configuration an input, one
    configuration kind and a transaction id of their own (same length), so the jobs they
    create are checked too. Invalid cases stay as generated."""
    body = case.body
    if (
        case.operation.label != CREATE
        or case.meta is None
        or case.meta.generation.mode != GenerationMode.POSITIVE
        or not isinstance(body, dict)
        or (body.get("configuration") is None and body.get("configuration_id") is None)
    ):
        return case
    usable = {**body, "file_input": body.get("file_input") or "dfl-conformance.pdf"}
    if usable.get("configuration") is not None:
        usable["configuration_id"] = None
    if isinstance(usable.get("transaction_id"), str):
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        length = len(usable["transaction_id"])
        usable["transaction_id"] = (digest * (length // len(digest) + 1))[:length]
    case.body = usable
    return case


@schema.parametrize()
def test_the_fake_conforms_to_the_spec(case: schemathesis.Case, fake_url: str) -> None:
    RAN.add(case.operation.label)
    response = case.call(base_url=fake_url)
    try:
        case.validate_response(
            response, checks=EVERY_CHECK, transport_kwargs={"base_url": fake_url}
        )
    except FailureGroup as failed:
        unexplained = [f for f in failed.exceptions if not _explained(f, case, response)]
        if unexplained:
            UNEXPLAINED.append(case.operation.label)
            raise FailureGroup(unexplained, str(failed)) from None


def _explained(failure: BaseException, case: schemathesis.Case, response: Any) -> bool:
    for index, allowed in enumerate(ALLOWED):
        if allowed.matches(
            type(failure).__name__, case.operation.label, response.status_code, case
        ):
            EXPLAINED[index] += 1
            return True
    return False
