"""``ClassifyClient``: the facade users hold. It checks arguments, builds queries, and hands
requests to ``Transport``; the work itself lives in the module for each concern."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from types import TracebackType
from typing import Self

import aiohttp
from attrs import evolve

from .conversion import structure_job, structure_page
from .models import ClassifyJob, JobStatus, Page
from .pagination import JobPager, PageFetcher
from .protocol import JOBS_PATH, job_path
from .retry import RetryPolicy
from .transport import Query, Transport, check_base_url
from .validation import check_int, check_job_id, check_optional_str, check_status, iso_datetime

__all__ = ["DEFAULT_BASE_URL", "ClassifyClient"]

DEFAULT_BASE_URL = "https://api.cloud.llamaindex.ai"


class ClassifyClient:
    """An async client for LlamaCloud Classify v2 jobs; safe to share between tasks.

    Use it as ``async with ClassifyClient() as client:`` or call ``await client.close()``.
    A ``session`` passed in stays the caller's: the client never closes it.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        project_id: str | None = None,
        organization_id: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 5,
        max_connections: int = 100,
        session: aiohttp.ClientSession | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        api_key = api_key if api_key is not None else os.environ.get("LLAMA_CLOUD_API_KEY")
        if not api_key:
            raise ValueError(
                "no API key: pass api_key=... or set the LLAMA_CLOUD_API_KEY environment variable"
            )
        check_optional_str(api_key, "api_key")
        url = check_base_url(base_url or os.environ.get("LLAMA_CLOUD_BASE_URL") or DEFAULT_BASE_URL)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
        check_int(max_retries, "max_retries", low=0)
        check_int(max_connections, "max_connections", low=1)
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise TypeError(
                f"session must be an aiohttp.ClientSession, not {type(session).__name__}"
            )
        self.project_id = check_optional_str(project_id, "project_id")
        self.organization_id = check_optional_str(organization_id, "organization_id")
        # ``max_retries`` always sets the count; ``retry_policy`` only the timing.
        policy = evolve(retry_policy or RetryPolicy(), max_retries=max_retries)
        self._transport = Transport(
            base_url=url,
            api_key=api_key,
            timeout=float(timeout),
            retry_policy=policy,
            max_connections=max_connections,
            session=session,
        )

    def __repr__(self) -> str:
        return (
            f"ClassifyClient(base_url={str(self.base_url)!r}, project_id={self.project_id!r}, "
            f"organization_id={self.organization_id!r})"
        )

    @property
    def base_url(self) -> str:
        return str(self._transport.base_url)

    @property
    def closed(self) -> bool:
        return self._transport.closed

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session the client created (if any); idempotent."""
        await self._transport.close()

    def _scope(self, project_id: str | None, organization_id: str | None) -> list[tuple[str, str]]:
        """The project / organization query pair: the call's own, else the client's defaults."""
        project_id = check_optional_str(project_id, "project_id") or self.project_id
        organization_id = (
            check_optional_str(organization_id, "organization_id") or self.organization_id
        )
        query = []
        if organization_id:
            query.append(("organization_id", organization_id))
        if project_id:
            query.append(("project_id", project_id))
        return query

    def list_jobs(
        self,
        *,
        status: JobStatus | str | None = None,
        configuration_id: str | None = None,
        job_ids: Iterable[str] | None = None,
        created_at_on_or_after: datetime | str | None = None,
        created_at_on_or_before: datetime | str | None = None,
        project_id: str | None = None,
        organization_id: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        limit: int | None = None,
    ) -> JobPager:
        """A lazy listing of jobs matching every filter given; see ``JobPager``.

        Arguments are checked here, before any request. ``job_ids=[]`` lists nothing and
        makes no request.
        """
        query: list[tuple[str, str]] = self._scope(project_id, organization_id)
        checked_status = check_status(status)
        if checked_status is not None:
            query.append(("status", checked_status.value))
        if check_optional_str(configuration_id, "configuration_id") is not None:
            query.append(("configuration_id", str(configuration_id)))
        for name, value in (
            ("created_at_on_or_after", created_at_on_or_after),
            ("created_at_on_or_before", created_at_on_or_before),
        ):
            text = iso_datetime(value, name)
            if text is not None:
                query.append((name, text))
        if page_size is not None:
            query.append(("page_size", str(check_int(page_size, "page_size", low=1, high=100))))
        if limit is not None:
            check_int(limit, "limit", low=1)
        if check_optional_str(page_token, "page_token") == "":
            raise ValueError("page_token must be a non-empty token from Page.next_page_token")
        if job_ids is not None:
            ids = _check_job_ids(job_ids)
            if not ids:
                return JobPager(None, page_token=page_token, limit=limit)
            query.extend(("job_ids", job_id) for job_id in ids)
        return JobPager(self._page_fetcher(query), page_token=page_token, limit=limit)

    def _page_fetcher(self, query: Query) -> PageFetcher:
        async def fetch_page(token: str | None) -> Page:
            params = [*query, ("page_token", token)] if token else query
            return structure_page(await self._transport.request("GET", JOBS_PATH, params=params))

        return fetch_page

    async def get_job(
        self, job_id: str, *, project_id: str | None = None, organization_id: str | None = None
    ) -> ClassifyJob:
        """One job by id; ``NotFoundError`` when the service does not know it."""
        path = job_path(check_job_id(job_id))
        params = self._scope(project_id, organization_id)
        return structure_job(await self._transport.request("GET", path, params=params))


def _check_job_ids(job_ids: Iterable[str]) -> list[str]:
    if isinstance(job_ids, str | bytes):
        raise TypeError("job_ids must be an iterable of ids, not a single str")
    return [check_job_id(job_id, "job_ids item") for job_id in job_ids]
