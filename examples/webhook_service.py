"""An aiohttp.web service that classifies documents and learns the moment each job ends from the
service's webhooks, delivered to this same app, instead of polling for it.

``POST /classify`` with ``{"file_inputs": ["dfl-...", ...]}`` creates one job per input, each
with an inline webhook pointing back at ``/hooks/llamacloud`` (signed with a secret made at
startup), waits for all of them with ``wait_for_jobs(..., events=receiver)`` and answers with each
job's status and type. The receiver verifies and de-duplicates deliveries; the wait looks up the
jobs that events name, in batches, and still polls every ``fallback_interval`` for any event
that never arrives. The service must be able to reach the hook URL: set ``WEBHOOK_PUBLIC_URL``
to the public address of ``/hooks/llamacloud`` (by default, this app's own address as the
request reached it, which is right for local runs and tests).

    export LLAMA_CLOUD_API_KEY=... WEBHOOK_PUBLIC_URL=https://example.com/hooks/llamacloud
    python examples/webhook_service.py
    curl -X POST localhost:8080/classify -d '{"file_inputs": ["dfl-1", "dfl-2"]}'
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator

from aiohttp import web

from aio_classify import (
    ClassifyClient,
    ClassifyConfiguration,
    ClassifyError,
    ClassifyRule,
    WebhookConfiguration,
)
from aio_classify.webhooks import WebhookReceiver

HOOK_PATH = "/hooks/llamacloud"
MAX_INPUTS = 100
CLIENT = web.AppKey("classify_client", ClassifyClient)
RECEIVER = web.AppKey("webhook_receiver", WebhookReceiver)
SECRET = web.AppKey("webhook_secret", str)
RULES = ClassifyConfiguration(
    rules=[
        ClassifyRule(type="invoice", description="Has an invoice number and a total amount due."),
        ClassifyRule(type="receipt", description="Proof of purchase listing items and taxes."),
    ]
)


async def classify_client(app: web.Application) -> AsyncIterator[None]:
    """One client for the whole app, opened at startup and closed at cleanup."""
    async with ClassifyClient() as client:  # key and URL from LLAMA_CLOUD_* variables
        app[CLIENT] = client
        yield


async def classify(request: web.Request) -> web.Response:
    """``POST /classify {"file_inputs": [...]}``: create the jobs, wait on their events."""
    body = await request.json()
    inputs = body.get("file_inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not 0 < len(inputs) <= MAX_INPUTS:
        raise web.HTTPBadRequest(text=f"give 1 to {MAX_INPUTS} file_inputs")
    client, receiver = request.app[CLIENT], request.app[RECEIVER]
    hook = WebhookConfiguration(
        webhook_url=os.environ.get("WEBHOOK_PUBLIC_URL") or str(request.url.with_path(HOOK_PATH)),
        webhook_events=("classify.success", "classify.error", "classify.cancelled"),
        webhook_signing_secret=request.app[SECRET],
        webhook_output_format="json",
    )
    try:
        jobs = await asyncio.gather(
            *(client.create_job(str(item), RULES, webhook_configurations=[hook]) for item in inputs)
        )
        ids = [job.id for job in jobs]
        done = await client.wait_for_jobs(ids, events=receiver, timeout=600)
    except (ClassifyError, TimeoutError, ValueError) as exc:
        raise web.HTTPBadGateway(text=f"classification failed: {type(exc).__name__}") from None
    return web.json_response(
        {
            job_id: {
                "status": str(job.status),
                "type": job.result.type if job.result else None,
            }
            for job_id, job in done.items()
        }
    )


def create_app() -> web.Application:
    app = web.Application()
    secret = secrets.token_hex(32)  # this app both sets and checks it
    app[SECRET] = secret
    app[RECEIVER] = WebhookReceiver(secret=secret)
    app.cleanup_ctx.append(classify_client)
    app.router.add_post("/classify", classify)
    app.router.add_post(HOOK_PATH, app[RECEIVER].handle)
    return app


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=8080)
