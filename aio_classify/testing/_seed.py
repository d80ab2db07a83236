"""Realistic, deterministic job records: rules, file names, results, usage.

Everything here is a pure function of a ``random.Random`` (or of the job's own fields), so the same
seed always produces the same jobs and the same classification results.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

#: Rule types with descriptions of 60..200 characters, as users write them.
RULES: dict[str, str] = {
    "invoice": "Has an invoice number, line items and a total amount due by a date.",
    "receipt": "Proof of purchase listing items, taxes and the payment method.",
    "contract": "Legal agreement between parties with clauses and signatures.",
    "resume": "A CV with work experience, education, skills and contact details.",
    "bank_statement": "Account statement with transactions and opening/closing balance.",
    "purchase_order": "Order with a PO number, quantities, prices and delivery address.",
    "tax_form": "Official tax return or form with taxpayer ids and income figures.",
    "medical_record": "Clinical notes or lab results about a patient and their diagnoses.",
    "shipping_manifest": "Cargo list with consignor, consignee, package counts and weights.",
    "insurance_claim": "Claim to an insurer with the incident, policy number and losses.",
}
#: File name stems that match no rule, so some results have ``type: null``.
OTHER_STEMS = ("scan", "memo", "report", "letter", "notes", "presentation")
#: Statuses of seeded jobs when the caller does not choose: mostly finished work.
STATUS_MIX: dict[str, float] = {
    "COMPLETED": 0.80,
    "FAILED": 0.05,
    "CANCELLED": 0.03,
    "RUNNING": 0.05,
    "PENDING": 0.07,
}
TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
ERRORS = (
    "Parse job failed: the file is password protected",
    "Document could not be parsed: unsupported file format",
    "Classification timed out after 600 seconds",
)
LANGS = ("en", "en", "en", "de", "fr", "es")


def iso(ts: float) -> str:
    """Epoch seconds as the service writes them: ISO 8601 UTC, milliseconds, ``Z``."""
    stamp = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return stamp[:-3] + "Z"


def new_id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}-{rng.getrandbits(96):024x}"


def random_configuration(rng: random.Random) -> dict[str, Any]:
    types = rng.sample(sorted(RULES), rng.choice((2, 2, 2, 3, 3, 4)))
    parsing = None
    if rng.random() < 0.6:
        parsing = {
            "lang": rng.choice(LANGS),
            "max_pages": rng.choice((1, 2, 5, 10, 20)),
            "target_pages": rng.choice((None, "1", "1,2", "1-3")),
        }
    return {
        "rules": [{"type": t, "description": RULES[t]} for t in types],
        "mode": "FAST",
        "parsing_configuration": parsing,
    }


def configuration_for(configuration_id: str) -> dict[str, Any]:
    """The rules a saved configuration stands for: stable for a given id."""
    digest = hashlib.sha256(configuration_id.encode()).digest()
    return random_configuration(random.Random(digest))


def file_name(rng: random.Random, rule_types: list[str]) -> str:
    """A file id whose name mentions one of the rule types three times out of four."""
    stem = rng.choice(rule_types) if rng.random() < 0.75 else rng.choice(OTHER_STEMS)
    stem = stem.replace("_", "-") if rng.random() < 0.3 else stem
    year, month, number = rng.randint(2021, 2025), rng.randint(1, 12), rng.randint(1, 9999)
    return f"dfl-{stem}-{year}-{month:02d}-{number:04d}.pdf"


def classify(configuration: Mapping[str, Any], file_input: str) -> dict[str, Any]:
    """The result the fake gives: the first rule whose type occurs in the input's name."""
    name = file_input.lower()
    rules = configuration.get("rules") or []
    score = int(hashlib.sha256(file_input.encode()).hexdigest()[:4], 16) / 0xFFFF
    for rule in rules:
        kind = str(rule.get("type", ""))
        if kind and (kind.lower() in name or kind.lower().replace("_", "-") in name):
            return {
                "confidence": round(0.8 + 0.19 * score, 3),
                "reasoning": f"The document name mentions '{kind}', matching that rule.",
                "type": kind,
            }
    return {
        "confidence": round(0.05 + 0.25 * score, 3),
        "reasoning": f"None of the {len(rules)} rules matched the document with confidence.",
        "type": None,
    }


def usage(file_input: str, status: str) -> dict[str, Any]:
    """Credits once billing ran (terminal jobs); a parse-job input bills nothing of its own."""
    if status not in TERMINAL:
        return {"credits": None, "parse_credits": None}
    if file_input.startswith("pjb-"):
        return {"credits": 0.0, "parse_credits": None}
    pages = 1 + int(hashlib.sha256(file_input.encode()).hexdigest()[:2], 16) % 12
    return {"credits": float(pages), "parse_credits": float(pages)}


def finish(job: dict[str, Any], status: str, error_message: str | None = None) -> None:
    """Fill the fields that depend on the status (result, error, usage) in place."""
    job["status"] = status
    file_input = job.get("file_input") or job.get("document_input_value") or ""
    job["result"] = (
        classify(job.get("configuration") or {}, file_input) if status == "COMPLETED" else None
    )
    job["error_message"] = (error_message or ERRORS[0]) if status == "FAILED" else None
    job["usage"] = usage(file_input, status)


def input_type(file_input: str) -> str:
    """``document_input_type`` as the service derives it from the input."""
    if file_input.startswith("pjb-"):
        return "parse_job_id"
    if file_input.lower().startswith(("http://", "https://")):
        return "url"
    return "file_id"


def new_job(
    *,
    job_id: str,
    file_input: str,
    configuration: dict[str, Any],
    configuration_id: str | None,
    project_id: str,
    user_id: str,
    created: float,
    transaction_id: str | None,
) -> dict[str, Any]:
    """A PENDING job record with every documented field plus the live service's extras."""
    is_parse_job = file_input.startswith("pjb-")
    return {
        "id": job_id,
        "configuration": configuration,
        "document_input_type": input_type(file_input),
        "document_input_value": file_input,
        "file_input": file_input,
        "project_id": project_id,
        "status": "PENDING",
        "user_id": user_id,
        "configuration_id": configuration_id,
        "created_at": iso(created),
        "updated_at": iso(created),
        "error_message": None,
        "parse_job_id": file_input if is_parse_job else "pjb-" + job_id[4:],
        "result": None,
        "transaction_id": transaction_id,
        "usage": usage(file_input, "PENDING"),
    }


def seeded_job(
    rng: random.Random,
    *,
    created: float,
    status: str,
    project_id: str,
    user_id: str,
    configuration_id: str | None,
) -> dict[str, Any]:
    """One realistic job created at ``created`` (epoch seconds), already in ``status``."""
    configuration = (
        configuration_for(configuration_id) if configuration_id else random_configuration(rng)
    )
    job = new_job(
        job_id=new_id(rng, "cls"),
        file_input=file_name(rng, [r["type"] for r in configuration["rules"]]),
        configuration=configuration,
        configuration_id=configuration_id,
        project_id=project_id,
        user_id=user_id,
        created=created,
        transaction_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    )
    finish(job, status, rng.choice(ERRORS))
    if status != "PENDING":
        job["updated_at"] = iso(created + rng.uniform(0.5, 30.0))
    return job
