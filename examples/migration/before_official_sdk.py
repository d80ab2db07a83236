"""A program written for the official ``llama-cloud`` SDK (2.19), as the migration guide's
starting point; ``after_aio_classify.py`` is the same program ported. Both print the same lines
against the same fake server (tests/conformance runs this one, tests/test_examples.py the port).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from llama_cloud import AsyncLlamaCloud
from llama_cloud.types import ClassifyListResponse

RULES = {
    "rules": [
        {"type": "invoice", "description": "Has an invoice number and a total amount due."},
        {"type": "contract", "description": "A legal agreement between parties, signed."},
    ]
}
FILES = ["dfl-invoice-0001.pdf", "dfl-contract-0002.pdf", "dfl-invoice-0003.pdf", "dfl-memo-4.pdf"]


async def classify_and_list() -> list[ClassifyListResponse]:
    async with AsyncLlamaCloud() as client:  # LLAMA_CLOUD_API_KEY, LLAMA_CLOUD_BASE_URL
        created = [
            await client.classify.create(file_input=name, configuration=RULES) for name in FILES
        ]
        # One wait per job, each polling GET /api/v2/classify/{id}; a FAILED job is returned.
        finished = await asyncio.gather(
            *(client.classify.wait_for_completion(job.id, polling_interval=0.2) for job in created)
        )
        for job in finished:
            if job.status == "COMPLETED":
                print(f"{job.file_input}: {job.result.type if job.result else None}")
            else:
                print(f"{job.file_input}: {job.status} ({job.error_message})")
        return [job async for job in client.classify.list(status="COMPLETED", page_size=100)]


def export(jobs: list[ClassifyListResponse], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for job in jobs:
            out.write(job.model_dump_json() + "\n")
    print(f"exported {len(jobs)} completed jobs to {path}")


if __name__ == "__main__":
    export(asyncio.run(classify_and_list()), Path("completed.jsonl"))
