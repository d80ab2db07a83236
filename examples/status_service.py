"""A small aiohttp.web service that answers "what is the status of these jobs?".

Every handler shares one ``ClassifyClient`` (so one connection pool), created when the app
starts and closed when it stops, in a cleanup context. ``get_jobs`` turns the ids of one request
into a few batched list calls, however many ids it names.

    export LLAMA_CLOUD_API_KEY=...
    python examples/status_service.py
    curl 'http://127.0.0.1:8080/jobs/status?id=cls-1&id=cls-2'
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from aio_classify import ClassifyClient, ClassifyError

CLIENT = web.AppKey("classify_client", ClassifyClient)
MAX_IDS = 500


async def classify_client(app: web.Application) -> AsyncIterator[None]:
    """One client for the whole app: opened at startup, closed at cleanup."""
    async with ClassifyClient() as client:  # key and URL from LLAMA_CLOUD_* variables
        app[CLIENT] = client
        yield


async def job_status(request: web.Request) -> web.Response:
    """``GET /jobs/status?id=A&id=B``: each known job's status and type; unknown ids listed."""
    ids = list(dict.fromkeys(job_id for job_id in request.query.getall("id", []) if job_id))
    if not ids or len(ids) > MAX_IDS:
        raise web.HTTPBadRequest(text=f"give between 1 and {MAX_IDS} id=... parameters")
    try:
        jobs = await request.app[CLIENT].get_jobs(ids)
    except ClassifyError as exc:
        raise web.HTTPBadGateway(text=f"the classify service failed: {exc}") from None
    return web.json_response(
        {
            "jobs": {
                job_id: {
                    "status": str(job.status),
                    "type": job.result.type if job.result else None,
                    "error": job.error_message,
                }
                for job_id, job in jobs.items()
            },
            "unknown": [job_id for job_id in ids if job_id not in jobs],
        }
    )


def create_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(classify_client)
    app.router.add_get("/jobs/status", job_status)
    return app


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=8080)
