"""``webhook_fastapi.py`` for several workers: a ``RedisCoordinator`` shares the rate limits and
the webhook events, so a delivery landing on any worker ends the waits of every worker.

    python3 -m pip install fastapi uvicorn redis     # this example's own dependencies
    export LLAMA_CLOUD_API_KEY=... WEBHOOK_SECRET=... REDIS_URL=redis://127.0.0.1:6379/0
    export WEBHOOK_PUBLIC_URL=https://example.com/hooks/llamacloud
    uvicorn examples.workers_fastapi:app --workers 4
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, Field

from aio_classify import ClassifyClient, ClassifyError, WebhookConfiguration
from aio_classify.redis import RedisCoordinator
from aio_classify.webhooks import MAX_BODY_BYTES, WebhookReceiver, WebhookSignatureError

HOOK_PATH = "/hooks/llamacloud"
SECRET = os.environ["WEBHOOK_SECRET"]  # the same in every worker
RULES = {"rules": [{"type": "invoice", "description": "Has an invoice number and an amount."}]}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Per worker: one coordinator, one client and one receiver sharing it."""
    async with (
        RedisCoordinator(
            os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), namespace="workers-example"
        ) as coordinator,
        ClassifyClient(coordinator=coordinator) as client,
    ):
        app.state.client = client
        app.state.receiver = WebhookReceiver(secret=SECRET, coordinator=coordinator)
        yield


app = FastAPI(lifespan=lifespan)


class ClassifyRequest(BaseModel):
    file_inputs: list[str] = Field(min_length=1, max_length=100)


@app.post(HOOK_PATH, status_code=204)
async def llamacloud_hook(request: Request) -> Response:
    """Verify and share the event with every worker; 204 for new and repeated ones."""
    receiver: WebhookReceiver = request.app.state.receiver
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, "webhook body too large")
    try:
        receiver.accept(body, request.headers)
    except WebhookSignatureError:
        raise HTTPException(401, "bad or missing webhook signature") from None
    except ValueError:
        raise HTTPException(400, "not a webhook event") from None
    await receiver.flush()  # shared (or fanned out locally) before the service hears 204
    return Response(status_code=204)


@app.post("/classify")
async def classify(payload: ClassifyRequest, request: Request) -> dict[str, str]:
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
        done = await client.wait_for_jobs(
            [job.id for job in jobs], events=request.app.state.receiver, timeout=600
        )
    except (ClassifyError, TimeoutError) as exc:
        raise HTTPException(502, f"classification failed: {type(exc).__name__}") from None
    return {job_id: str(job.status) for job_id, job in done.items()}
