"""``before_official_sdk.py`` ported to aio_classify: the program of the migration guide.

It classifies four files, waits for all of them, prints each outcome, and exports every
COMPLETED job of the project to ``completed.jsonl``. Try it against the fake server:

    aio-classify fake-server --finish-after 1 --fail-ratio 0.25     # in another shell
    export LLAMA_CLOUD_BASE_URL=http://127.0.0.1:8787 LLAMA_CLOUD_API_KEY=test-key
    python examples/migration/after_aio_classify.py
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aio_classify import ClassifyClient, ClassifyConfiguration, ClassifyJob, ClassifyRule

RULES = ClassifyConfiguration(
    rules=[
        ClassifyRule(type="invoice", description="Has an invoice number and a total amount due."),
        ClassifyRule(type="contract", description="A legal agreement between parties, signed."),
    ]
)
FILES = ["dfl-invoice-0001.pdf", "dfl-contract-0002.pdf", "dfl-invoice-0003.pdf", "dfl-memo-4.pdf"]


async def classify_and_list() -> list[ClassifyJob]:
    async with ClassifyClient() as client:  # LLAMA_CLOUD_API_KEY, LLAMA_CLOUD_BASE_URL
        created = [await client.create_job(name, RULES) for name in FILES]
        # Every round asks about all pending jobs in one batched request; a FAILED job is
        # returned like any other (wait_for_job would raise JobFailedError for it).
        finished = await client.wait_for_jobs([job.id for job in created], poll_interval=0.2)
        for job in finished.values():
            if job.status == "COMPLETED":
                print(f"{job.file_input}: {job.result.type if job.result else None}")
            else:
                print(f"{job.file_input}: {job.status} ({job.error_message})")
        return [job async for job in client.list_jobs(status="COMPLETED", page_size=100)]


def export(jobs: list[ClassifyJob], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for job in jobs:
            out.write(json.dumps(job.to_dict()) + "\n")
    print(f"exported {len(jobs)} completed jobs to {path}")


if __name__ == "__main__":
    export(asyncio.run(classify_and_list()), Path("completed.jsonl"))
