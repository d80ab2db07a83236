"""A FastAPI service in front of the classify service: look jobs up, create them.

One ``ClassifyClient`` (so one connection pool) serves every request: it is opened in the app's
lifespan and closed when the app stops. The library's errors become HTTP answers in one place,
the exception handlers: an unknown job is a 404, the service's rate limit (still hit after the
client's retries) a 503 with ``Retry-After``, anything else the service did a 502. The service's
own error text is never passed on to this app's callers.

    python3 -m pip install fastapi uvicorn     # this example's own dependencies
    export LLAMA_CLOUD_API_KEY=...
    uvicorn examples.fastapi_service:app
    curl http://127.0.0.1:8000/jobs/cls-...
    curl 'http://127.0.0.1:8000/jobs?id=cls-1&id=cls-2'
    BODY='{"file_input": "dfl-...", "rules": {"invoice": "Has an invoice number."}}'
    curl -d "$BODY" -H 'Content-Type: application/json' http://127.0.0.1:8000/jobs
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from aio_classify import (
    ClassifyClient,
    ClassifyConfiguration,
    ClassifyError,
    ClassifyJob,
    ClassifyRule,
    NotFoundError,
    RateLimitError,
)

MAX_IDS = 500
#: Seconds a caller is told to wait when the service gave no hint of its own, and at most.
DEFAULT_RETRY_AFTER = 5
MAX_RETRY_AFTER = 60


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One client for the whole app; key and URL from the LLAMA_CLOUD_* variables. A web request
    should not wait a minute for the service, so fewer retries than the default five."""
    async with ClassifyClient(max_retries=2, timeout=20.0) as client:
        app.state.classify = client
        yield


app = FastAPI(title="Classify jobs", lifespan=lifespan)


def classify_client(request: Request) -> ClassifyClient:
    client: ClassifyClient = request.app.state.classify
    return client


Client = Annotated[ClassifyClient, Depends(classify_client)]


def summary(job: ClassifyJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": str(job.status),
        "type": job.result.type if job.result else None,
        "confidence": job.result.confidence if job.result else None,
        "error": job.error_message,
    }


@app.get("/jobs/{job_id}")
async def get_job(job_id: str, client: Client) -> dict[str, Any]:
    """One job; 404 when the service does not know it."""
    return summary(await client.get_job(job_id))


@app.get("/jobs")
async def get_jobs(
    client: Client, ids: Annotated[list[str], Query(alias="id", min_length=1, max_length=MAX_IDS)]
) -> dict[str, Any]:
    """Many jobs in a few batched requests; the ids the service does not know are listed."""
    jobs = await client.get_jobs(ids)
    return {
        "jobs": {job_id: summary(job) for job_id, job in jobs.items()},
        "unknown": [job_id for job_id in dict.fromkeys(ids) if job_id not in jobs],
    }


class NewJob(BaseModel):
    file_input: str = Field(min_length=1)
    #: Document type -> what it looks like, e.g. {"invoice": "Has an invoice number..."}.
    rules: dict[str, str] = Field(min_length=1)


@app.post("/jobs", status_code=201)
async def create_job(new_job: NewJob, client: Client) -> dict[str, Any]:
    """Start a classify job; a rule the service would refuse is a 422 before any request."""
    rules = [ClassifyRule(type=kind, description=text) for kind, text in new_job.rules.items()]
    try:
        job = await client.create_job(
            file_input=new_job.file_input, configuration=ClassifyConfiguration(rules=rules)
        )
    except ValueError as exc:  # the client checks rules before sending; its messages are ours
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return summary(job)


@app.exception_handler(NotFoundError)
async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
    return JSONResponse({"detail": "no such job"}, status_code=404)


@app.exception_handler(RateLimitError)
async def rate_limited(request: Request, exc: RateLimitError) -> JSONResponse:
    """Still rate-limited after the client's retries: tell our caller when to come back."""
    hint = exc.retry_after
    seconds = DEFAULT_RETRY_AFTER if hint is None else min(max(1, math.ceil(hint)), MAX_RETRY_AFTER)
    return JSONResponse(
        {"detail": "the classify service is busy; try again later"},
        status_code=503,
        headers={"Retry-After": str(seconds)},
    )


@app.exception_handler(ClassifyError)
async def service_failed(request: Request, exc: ClassifyError) -> JSONResponse:
    return JSONResponse({"detail": "the classify service failed"}, status_code=502)
