"""The webhook service of ``webhook_service.py`` with FastAPI: ``receiver.accept`` does the
verifying and de-duplicating in any framework; the endpoint maps its errors to 401 / 400.

    python3 -m pip install fastapi uvicorn     # this example's own dependencies
    export LLAMA_CLOUD_API_KEY=... WEBHOOK_SECRET=...
    export WEBHOOK_PUBLIC_URL=https://example.com/hooks/llamacloud
    uvicorn examples.webhook_fastapi:app
    BODY='{"file_inputs": ["dfl-1", "dfl-2"]}'
    curl -X POST localhost:8000/classify -H 'Content-Type: application/json' -d "$BODY"
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, Field

from aio_classify import (
    ClassifyClient,
    ClassifyConfiguration,
    ClassifyError,
    ClassifyRule,
    WebhookConfiguration,
)
from aio_classify.webhooks import MAX_BODY_BYTES, WebhookReceiver, WebhookSignatureError

HOOK_PATH = "/hooks/llamacloud"
# From configuration, never made at import: every worker process must check the same secret.
SECRET = os.environ["WEBHOOK_SECRET"]
receiver = WebhookReceiver(secret=SECRET)
RULES = ClassifyConfiguration(
    rules=[
        ClassifyRule(type="invoice", description="Has an invoice number and a total amount due."),
        ClassifyRule(type="receipt", description="Proof of purchase listing items and taxes."),
    ]
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One client for the whole app (key and URL from the LLAMA_CLOUD_* variables)."""
    async with ClassifyClient() as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


class ClassifyRequest(BaseModel):
    file_inputs: list[str] = Field(min_length=1, max_length=100)


@app.post(HOOK_PATH, status_code=204)
async def llamacloud_hook(request: Request) -> Response:
    """Verify, de-duplicate and hand the event to the waits; 204 for new and repeated ones."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, "webhook body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, "webhook body too large")
    try:
        receiver.accept(bytes(body), request.headers)
    except WebhookSignatureError:
        raise HTTPException(401, "bad or missing webhook signature") from None
    except ValueError:
        raise HTTPException(400, "not a webhook event") from None
    return Response(status_code=204)


@app.post("/classify")
async def classify(payload: ClassifyRequest, request: Request) -> dict[str, dict[str, str | None]]:
    """Create one job per input with a webhook back to this app, and wait on the events."""
    client: ClassifyClient = request.app.state.client
    hook = WebhookConfiguration(
        webhook_url=os.environ.get("WEBHOOK_PUBLIC_URL") or str(request.url_for("llamacloud_hook")),
        webhook_events=("classify.success", "classify.error", "classify.cancelled"),
        webhook_signing_secret=SECRET,
        webhook_output_format="json",
    )
    try:
        jobs = await asyncio.gather(
            *(
                client.create_job(item, RULES, webhook_configurations=[hook])
                for item in payload.file_inputs
            )
        )
        done = await client.wait_for_jobs([job.id for job in jobs], events=receiver, timeout=600)
    except (ClassifyError, TimeoutError) as exc:
        raise HTTPException(502, f"classification failed: {type(exc).__name__}") from None
    return {
        job_id: {"status": str(job.status), "type": job.result.type if job.result else None}
        for job_id, job in done.items()
    }
