"""``ClassifyClient``: the facade users hold: configuration, lifecycle, and thin methods that
check arguments (``validation``), build the request (``protocol``) and hand it to
``Transport``; the work itself lives in the module for each concern."""

from __future__ import annotations

import copy
import os
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from contextlib import aclosing
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import aiohttp
from attrs import frozen

from ._core.call_kinds import CallKind
from ._core.errors import BadRequestError, ConflictError, JobFailedError, NotFoundError
from ._core.models import ClassifyConfiguration, ClassifyJob, JobStatus, WebhookConfiguration
from ._decode.conversion import read_job, read_page
from ._decode.status_page import Running, read_status_page
from ._decode.strict_json import json_body
from ._http.coordination import Coordinator, check_coordinator, scope_of
from ._http.protocol import (
    JOBS_PATH,
    Query,
    job_path,
    list_query,
    page_query,
    scope_query,
)
from ._http.proxies import choose_proxy
from ._http.request_options import CallOptions, CallOverrides
from ._http.retry import RetryPolicy
from ._http.throttle import Limiter, build_limiters
from ._http.transport import Transport
from ._jobs.batching import BatchLookup, JobIds, PageOf, distinct_ids
from ._jobs.coalesce import GET_WINDOW, WAIT_WINDOW, Coalescer
from ._jobs.pagination import AnyPage, JobPager
from ._jobs.polling import (
    PollOptions,
    cancelling_on_timeout,
    look_when_due,
    poll_in_rounds,
    poll_one_job,
)
from ._jobs.scan import scan, split_range
from ._observe import build_telemetry
from ._validation import (
    check_api_key,
    check_base_url,
    check_bool,
    check_create,
    check_datetime,
    check_given_ids,
    check_headers,
    check_int,
    check_iterable,
    check_job_id,
    check_optional_str,
    check_proxy,
    check_rate_limit,
    check_session,
    check_status,
    check_str_list,
    check_text,
    iso_datetime,
)
from .webhooks import WebhookReceiver

__all__ = ["DEFAULT_BASE_URL", "ClassifyClient"]

DEFAULT_BASE_URL = "https://api.cloud.llamaindex.ai"
"""Where the client sends requests without ``base_url=`` or ``LLAMA_CLOUD_BASE_URL``."""


@frozen
class _LookScope:
    """A coalesced look's scope: the project / organization query and the options of the view
    that asked; looks share a request only when both are equal."""

    options: CallOptions
    query: tuple[tuple[str, str], ...]


_Key = TypeVar("_Key")
_Found = TypeVar("_Found")
_PageT = TypeVar("_PageT", bound=AnyPage)
_Item = TypeVar("_Item", ClassifyJob, ClassifyJob | Running)


class ClassifyClient:
    """An async client for LlamaCloud Classify v2 jobs; safe to share between tasks.

    Use it as ``async with ClassifyClient() as client:`` or call ``await client.close()``.
    A ``session`` passed in stays the caller's: the client never closes it.

    Every call kind (list, get, create, cancel, delete) waits for its turn in one limiter shared
    by all tasks: ``rate_limit`` (requests per second, for every kind or a mapping per kind)
    spaces its sends evenly; ``adaptive_throttling`` learns the server's rate from its 429s,
    starting with a slow start. See ``throttle``. With a ``coordinator``
    (``aio_classify.redis.RedisCoordinator``) the cap and the learned rate hold for every process
    sharing it, the base URL and the API key; see ``aio_classify.redis``.

    ``max_response_bytes`` caps what one response may occupy, counted after decompression: a
    bigger answer is a ``ResponseValidationError`` and nothing past the cap is read. See
    SECURITY.md for every guarantee against a hostile server.

    ``total_timeout`` bounds each request as a whole: attempts, backoff, ``Retry-After`` waits
    and waits for a throttling turn (``None``: no bound beyond ``timeout`` per attempt and the
    retry count). ``default_headers`` go on every request, over our ``User-Agent`` (never
    ``Authorization``). Proxies: ``proxy=`` (an http(s) URL), else ``HTTPS_PROXY`` /
    ``HTTP_PROXY`` / ``NO_PROXY`` as they are when the client is made. ``with_options`` makes
    views with other per-call options over the same connections.

    ``coalesce`` (on by default) lets independent callers share requests: ``get_job`` calls
    pending at the same time go out as batched lookups, and every ``wait_for_job`` joins one
    polling schedule per event loop whose looks, due close together, share a request; a lone
    call is still one ``GET``. ``coalesce=False`` makes one request per call. See
    ``aio_classify._jobs.coalesce``.

    With ``opentelemetry-api`` installed (``pip install "aio-classify[otel]"``), every call is
    traced and measured through ``tracer_provider`` / ``meter_provider`` (an OpenTelemetry
    ``TracerProvider`` / ``MeterProvider``; the global ones when ``None``); see the
    Observability guide. Without it, nothing of OpenTelemetry is imported.
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
        rate_limit: float | Mapping[str, float] | None = None,
        adaptive_throttling: bool = True,
        max_response_bytes: int = 32 * 2**20,
        total_timeout: float | None = None,
        default_headers: Mapping[str, str] | None = None,
        proxy: str | None = None,
        coalesce: bool = True,
        coordinator: Coordinator | None = None,
        tracer_provider: Any = None,
        meter_provider: Any = None,
    ) -> None:
        api_key = check_api_key(
            api_key if api_key is not None else os.environ.get("LLAMA_CLOUD_API_KEY")
        )
        url = check_base_url(base_url or os.environ.get("LLAMA_CLOUD_BASE_URL") or DEFAULT_BASE_URL)
        check_int(max_connections, "max_connections", low=1)
        check_int(max_response_bytes, "max_response_bytes", low=1)
        self.project_id = check_optional_str(project_id, "project_id")
        self.organization_id = check_optional_str(organization_id, "organization_id")
        options = CallOptions.checked(
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            total_timeout=total_timeout,
        )
        local = build_limiters(
            check_rate_limit(rate_limit),
            check_bool(adaptive_throttling, "adaptive_throttling"),
            max_pause=options.retry_policy.max_retry_after,
        )
        limiters: Mapping[CallKind, Limiter[Any]] = local
        if coordinator is not None:
            shared = check_coordinator(coordinator)
            scope = scope_of(str(url), api_key)
            limiters = {kind: shared.shared_limiter(scope, each) for kind, each in local.items()}
        self._transport = Transport(
            base_url=url,
            api_key=api_key,
            options=options,
            max_connections=max_connections,
            session=check_session(session),
            limiters=limiters,
            max_response_bytes=max_response_bytes,
            default_headers=check_headers(default_headers, "default_headers"),
            proxy=choose_proxy(url, check_proxy(proxy)),
            telemetry=build_telemetry(tracer_provider, meter_provider, secret=api_key),
        )
        self._telemetry = self._transport.telemetry
        self._coalesce = check_bool(coalesce, "coalesce")
        # Shared by every view: a look carries its caller's options in its scope (``_LookScope``)
        # and goes out through a view with them, so views with equal options share requests.
        self._gets: Coalescer[_LookScope, ClassifyJob] = Coalescer(
            self._in_scope(ClassifyClient._get_one),
            self._in_scope(ClassifyClient._get_many),
            self._not_found,
            window=GET_WINDOW,
        )
        self._looks: Coalescer[_LookScope, ClassifyJob | Running] = Coalescer(
            self._in_scope(ClassifyClient._get_one),
            self._in_scope(ClassifyClient._look_many),
            self._not_found,
            window=WAIT_WINDOW,
        )

    def with_options(self, **overrides: Unpack[CallOverrides]) -> Self:
        """A client for the same service that differs only in the options given (``timeout``,
        ``max_retries``, ``retry_policy``, ``total_timeout``, ``extra_headers``,
        ``extra_query``, ``project_id``, ``organization_id``): same connections, limiters and
        every other shared state, so making one per request is fine. An option given replaces
        the view's own (``extra_headers={}`` drops them). Closing the view never closes the
        parent's sessions. An unknown name is a ``TypeError``; values are checked as the
        constructor checks them.

        A view is a shallow copy: all the state set in ``__init__`` is shared by reference, so
        state meant to be shared must be an object made there, never a value rebound later.
        """
        unknown = sorted(set(overrides) - CallOverrides.__optional_keys__)
        if unknown:
            raise TypeError(
                f"with_options() got unknown option(s) {', '.join(map(repr, unknown))}; "
                f"the options are {', '.join(sorted(CallOverrides.__optional_keys__))}"
            )
        view = self._sending_with(self._transport.options.updated(overrides))
        if "project_id" in overrides:
            view.project_id = check_optional_str(overrides["project_id"], "project_id")
        if "organization_id" in overrides:
            view.organization_id = check_optional_str(
                overrides["organization_id"], "organization_id"
            )
        return view

    def _sending_with(self, options: CallOptions) -> Self:
        """A view of this client whose requests go out with ``options``."""
        view = copy.copy(self)
        view._transport = self._transport.with_options(options)
        return view

    def _look_scope(self, scope: Query) -> _LookScope:
        """What a coalesced look of this view is batched by: its scope and its options."""
        self._transport.check_open()  # the shared coalescer sends through a fresh view
        return _LookScope(self._transport.options, tuple(scope))

    def _in_scope(
        self, fetch: Callable[[ClassifyClient, Query, _Key], Awaitable[_Found]]
    ) -> Callable[[_LookScope, _Key], Awaitable[_Found]]:
        """``fetch`` made through a view with the look scope's options, in its query."""

        def fetch_in_scope(scope: _LookScope, key: _Key) -> Awaitable[_Found]:
            return fetch(self._sending_with(scope.options), scope.query, key)

        return fetch_in_scope

    def __repr__(self) -> str:
        return (
            f"ClassifyClient(base_url={str(self.base_url)!r}, project_id={self.project_id!r}, "
            f"organization_id={self.organization_id!r})"
        )

    @property
    def base_url(self) -> str:
        """The service's address, as given or read from the environment."""
        return str(self._transport.base_url)

    @property
    def closed(self) -> bool:
        """True once ``close()`` (or ``async with``) has closed the client."""
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
        """Close the session the client created (if any); idempotent. Closing a view
        (``with_options``) closes only the view."""
        await self._transport.close()

    def _scope(self, project_id: str | None, organization_id: str | None) -> Query:
        """The project / organization query pair: the call's own, else the client's defaults."""
        return scope_query(
            check_optional_str(project_id, "project_id") or self.project_id,
            check_optional_str(organization_id, "organization_id") or self.organization_id,
        )

    def list_jobs(
        self,
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
        checked_status = check_status(status)
        ids = check_str_list(job_ids, "job_ids")
        query = list_query(
            self._scope(project_id, organization_id),
            status=None if checked_status is None else checked_status.value,
            configuration_id=check_optional_str(configuration_id, "configuration_id"),
            created_at_on_or_after=iso_datetime(created_at_on_or_after, "created_at_on_or_after"),
            created_at_on_or_before=iso_datetime(
                created_at_on_or_before, "created_at_on_or_before"
            ),
            page_size=None
            if page_size is None
            else check_int(page_size, "page_size", low=1, high=100),
            job_ids=ids or (),
        )
        if limit is not None:
            check_int(limit, "limit", low=1)
        if check_optional_str(page_token, "page_token") == "":
            raise ValueError("page_token must be a non-empty token from Page.next_page_token")
        if page_token is not None:
            check_text(page_token, "page_token")
        fetcher = None if ids == [] else self._page_fetcher(query, read_page, "list_jobs")
        return JobPager(fetcher, page_token=page_token, limit=limit)

    def scan_jobs(
        self,
        created_at_on_or_after: datetime | str,
        created_at_on_or_before: datetime | str,
        partitions: int = 8,
        concurrency: int = 8,
        status: JobStatus | str | None = None,
        configuration_id: str | None = None,
        project_id: str | None = None,
        organization_id: str | None = None,
        page_size: int = 100,
    ) -> AsyncGenerator[ClassifyJob, None]:
        """Every job created in the range (both bounds inclusive), once each, in no set order.

        The range is cut into ``partitions`` windows listed side by side, with at most
        ``concurrency`` requests in flight; see ``aio_classify._jobs.scan``. Arguments are
        checked at once, as ``list_jobs`` checks them. A failing window raises and cancels the
        others.
        """
        start = check_datetime(created_at_on_or_after, "created_at_on_or_after")
        end = check_datetime(created_at_on_or_before, "created_at_on_or_before")
        if start is None or end is None:
            raise ValueError(
                "scan_jobs needs both created_at_on_or_after and created_at_on_or_before"
            )
        if end < start:
            raise ValueError("created_at_on_or_before is earlier than created_at_on_or_after")
        windows = split_range(start, end, check_int(partitions, "partitions", low=1))

        def list_window(first: datetime, last: datetime) -> JobPager:
            return self.list_jobs(
                status=status,
                configuration_id=configuration_id,
                created_at_on_or_after=first,
                created_at_on_or_before=last,
                project_id=project_id,
                organization_id=organization_id,
                page_size=page_size,
            )

        list_window(start, end)  # checks the other arguments now; a pager sends nothing
        return scan(list_window, windows, concurrency=check_int(concurrency, "concurrency", low=1))

    def _page_fetcher(
        self, query: Query, read: Callable[[bytes], _PageT], call: str | None = None
    ) -> Callable[[str | None], Awaitable[_PageT]]:
        """Fetches one page per call; with ``call``, each page is a logical call of that name
        (a listing's pages), else a part of the caller's (a batched lookup's)."""

        async def fetch_page(token: str | None) -> _PageT:
            params = page_query(query, token)
            return await self._transport.request(
                "GET", JOBS_PATH, kind="list", params=params, decode=read
            )

        if call is None:
            return fetch_page

        async def fetch_traced_page(token: str | None) -> _PageT:
            with self._telemetry.call(call, "list") as scope:
                page = await fetch_page(token)
                scope.set_attribute("aio_classify.jobs.returned", len(page.items))
                return page

        return fetch_traced_page

    async def get_job(
        self,
        job_id: str,
        expand: Iterable[str] | None = None,
        *,
        project_id: str | None = None,
        organization_id: str | None = None,
    ) -> ClassifyJob:
        """One job by id; ``NotFoundError`` when the service does not know it.

        ``expand=["usage"]`` asks for ``job.usage``, which the service sends only when asked.

        With ``coalesce`` (the default), calls without ``expand`` pending at the same time on
        this client share batched ``list`` calls (at most 100 ids a request); a lone call is
        one ``GET``, at once. Each caller still gets its own record, ``NotFoundError`` or error.
        """
        checked_id = check_job_id(job_id)
        expanded = [("expand", name) for name in check_str_list(expand, "expand") or ()]
        scope = self._scope(project_id, organization_id)
        with self._telemetry.call("get_job", "get"):
            if self._coalesce and not expanded:
                return await self._gets.look(self._look_scope(scope), checked_id)
            return await self._get_one([*scope, *expanded], checked_id)

    async def _get_one(self, params: Query, job_id: str) -> ClassifyJob:
        return await self._transport.request(
            "GET", job_path(job_id), kind="get", params=params, decode=read_job
        )

    async def _get_many(self, scope: Query, job_ids: list[str]) -> dict[str, ClassifyJob]:
        return await self._lookup_in(scope, 1, len(job_ids), read_page).get_jobs(job_ids)

    async def _look_many(
        self, scope: Query, job_ids: list[str]
    ) -> dict[str, ClassifyJob | Running]:
        lookup = self._lookup_in(scope, 1, len(job_ids), read_status_page)
        return await lookup.get_jobs(job_ids)

    def _not_found(self, job_id: str) -> NotFoundError:
        """What a lone ``GET`` of an unknown job raises, for an id a batch did not return."""
        label = f"GET {self._transport.url(job_path(job_id)).path}"
        return NotFoundError(
            f"{label} answered 404: Job not found",
            status_code=404,
            body={"detail": "Job not found"},
            headers={},
        )

    # -- batch lookups ---------------------------------------------------------------------

    async def get_jobs(
        self,
        job_ids: JobIds,
        concurrency: int = 8,
        batch_size: int = 100,
        *,
        project_id: str | None = None,
        organization_id: str | None = None,
    ) -> dict[str, ClassifyJob]:
        """The jobs among ``job_ids`` (an iterable or async iterable), keyed by id in input order.

        Distinct ids are looked up in batches of at most ``batch_size`` with one filtered list
        call each, at most ``concurrency`` requests in flight. Ids the server does not know are
        absent. A failing batch cancels the others and its error is raised.
        """
        ids = check_given_ids(job_ids)
        lookup = self._batch_lookup(concurrency, batch_size, project_id, organization_id, read_page)
        with self._telemetry.call("get_jobs", "list") as scope:
            found = await lookup.get_jobs(ids)
            scope.set_attribute("aio_classify.jobs.found", len(found))
            return found

    def iter_jobs(
        self,
        job_ids: JobIds,
        concurrency: int = 8,
        batch_size: int = 100,
        *,
        project_id: str | None = None,
        organization_id: str | None = None,
    ) -> AsyncGenerator[ClassifyJob, None]:
        """Like ``get_jobs``, but yields jobs as their batches arrive and reads ``job_ids``
        lazily: only about ``concurrency`` batches of ids are held at once (plus the set of ids
        already seen, to skip duplicates). Arguments are checked at once; closing the generator
        (``contextlib.aclosing``) cancels and awaits the batches under way."""
        ids = check_given_ids(job_ids)
        lookup = self._batch_lookup(concurrency, batch_size, project_id, organization_id, read_page)
        return lookup.iter_jobs(ids)

    def _batch_lookup(
        self,
        concurrency: int,
        batch_size: int,
        project_id: str | None,
        organization_id: str | None,
        read: Callable[[bytes], PageOf[_Item]],
    ) -> BatchLookup[_Item]:
        return self._lookup_in(
            self._scope(project_id, organization_id),
            check_int(concurrency, "concurrency", low=1),
            check_int(batch_size, "batch_size", low=1, high=100),
            read,
        )

    def _lookup_in(
        self,
        scope: Query,
        concurrency: int,
        batch_size: int,
        read: Callable[[bytes], PageOf[_Item]],
    ) -> BatchLookup[_Item]:
        return BatchLookup(
            lambda query: self._page_fetcher(query, read),
            scope=scope,
            base_bytes=len(str(self._transport.url(JOBS_PATH))),
            concurrency=concurrency,
            batch_size=batch_size,
        )

    def _canceller(
        self, cancel_on_timeout: bool, project_id: str | None, organization_id: str | None
    ) -> Callable[[str], Awaitable[ClassifyJob]] | None:
        """What ``cancel_on_timeout`` cancels stuck jobs with, or None when it is off."""
        if not check_bool(cancel_on_timeout, "cancel_on_timeout"):
            return None

        def cancel(job_id: str) -> Awaitable[ClassifyJob]:
            return self.cancel_job(job_id, project_id=project_id, organization_id=organization_id)

        return cancel

    # -- polling ---------------------------------------------------------------------------

    async def wait_for_job(
        self,
        job_id: str,
        poll_interval: float = 1.0,
        max_interval: float = 5.0,
        timeout: float = 7200.0,  # noqa: ASYNC109 (the contract's name: the whole wait)
        raise_on_failure: bool = True,
        *,
        project_id: str | None = None,
        organization_id: str | None = None,
        events: WebhookReceiver | None = None,
        fallback_interval: float = 30.0,
        cancel_on_timeout: bool = False,
    ) -> ClassifyJob:
        """Poll one job (first look at once) until COMPLETED, FAILED or CANCELLED.

        With ``raise_on_failure``, FAILED or CANCELLED raises ``JobFailedError``. An unknown id
        raises ``NotFoundError``; past ``timeout``, ``PollingTimeoutError`` (with
        ``cancel_on_timeout``, the job is cancelled first, best effort). With ``events`` (a
        ``WebhookReceiver``), the job is looked at again as soon as a terminal event names it,
        and every ``fallback_interval`` seconds otherwise; the record looked up decides.

        With ``coalesce`` (the default), every wait on this client joins one schedule per
        event loop: each keeps its own intervals, timeout and events, and looks falling due
        within ``WAIT_WINDOW`` (50 ms) of one another go out as one batched lookup. A lone
        wait looks with ``GET /api/v2/classify/{id}``, as without coalescing.
        """
        checked_id = check_job_id(job_id)
        options = PollOptions.checked(
            poll_interval, max_interval, timeout, events=events, fallback_interval=fallback_interval
        )
        scope = self._scope(project_id, organization_id)  # checked now, not on the first poll
        cancel = self._canceller(cancel_on_timeout, project_id, organization_id)

        def look(due: float) -> Awaitable[ClassifyJob | Running]:
            if self._coalesce:
                return self._looks.look(self._look_scope(scope), checked_id, due)
            return look_when_due(lambda: self._get_one(scope, checked_id), due)

        with self._telemetry.call("wait_for_job", "get"):
            try:
                async with cancelling_on_timeout(cancel):
                    job = await poll_one_job(
                        look, checked_id, options, raise_on_failure=raise_on_failure
                    )
            except JobFailedError as failed:
                self._telemetry.job_finished(failed.job)
                raise
            self._telemetry.job_finished(job)
            return job

    async def wait_for_jobs(
        self,
        job_ids: JobIds,
        poll_interval: float = 1.0,
        max_interval: float = 5.0,
        timeout: float = 7200.0,  # noqa: ASYNC109 (the contract's name: the whole wait)
        concurrency: int = 8,
        batch_size: int = 100,
        *,
        project_id: str | None = None,
        organization_id: str | None = None,
        events: WebhookReceiver | None = None,
        fallback_interval: float = 30.0,
        cancel_on_timeout: bool = False,
    ) -> dict[str, ClassifyJob]:
        """Every job of ``job_ids`` once terminal, keyed by id in input order; never raises for
        a failed job. Each round asks, in batches, only about the jobs still pending.

        Past ``timeout``: ``PollingTimeoutError`` with ``.finished`` and ``.pending``. An id the
        server does not know raises ``NotFoundError`` (it could never finish).

        With ``events`` (a ``WebhookReceiver``), terminal events for pending jobs prompt batched
        lookups of just those jobs (events close together share a request), and a full round
        runs every ``fallback_interval`` seconds instead of the growing poll interval, for jobs
        whose event never came. Only the records looked up end a job's wait.

        ``cancel_on_timeout``: at ``timeout``, the jobs still pending are cancelled (best
        effort: a failed cancel is logged) before ``PollingTimeoutError``, which lists them.
        """
        options = PollOptions.checked(
            poll_interval, max_interval, timeout, events=events, fallback_interval=fallback_interval
        )
        check_iterable(job_ids, "job_ids")
        lookup = self._batch_lookup(
            concurrency, batch_size, project_id, organization_id, read_status_page
        )
        cancel = self._canceller(cancel_on_timeout, project_id, organization_id)
        ids = await distinct_ids(job_ids)
        finished: dict[str, ClassifyJob] = {}
        with self._telemetry.call("wait_for_jobs", "list") as scope:
            scope.set_attribute("aio_classify.jobs.requested", len(ids))
            async with (
                cancelling_on_timeout(cancel),
                aclosing(poll_in_rounds(lookup, ids, options, finished, self._telemetry)) as jobs,
            ):
                async for job in jobs:
                    self._telemetry.job_finished(job)
        return {job_id: finished[job_id] for job_id in ids}

    def watch_jobs(
        self,
        job_ids: JobIds,
        poll_interval: float = 1.0,
        max_interval: float = 5.0,
        timeout: float = 7200.0,
        concurrency: int = 8,
        batch_size: int = 100,
        *,
        project_id: str | None = None,
        organization_id: str | None = None,
        events: WebhookReceiver | None = None,
        fallback_interval: float = 30.0,
        cancel_on_timeout: bool = False,
    ) -> AsyncGenerator[ClassifyJob, None]:
        """Yield each job of ``job_ids`` once, as soon as a look sees it terminal; end when all
        are. Same options (``events``, ``cancel_on_timeout`` too) and errors as
        ``wait_for_jobs``. Arguments are checked at once."""
        options = PollOptions.checked(
            poll_interval, max_interval, timeout, events=events, fallback_interval=fallback_interval
        )
        check_iterable(job_ids, "job_ids")
        lookup = self._batch_lookup(
            concurrency, batch_size, project_id, organization_id, read_status_page
        )
        cancel = self._canceller(cancel_on_timeout, project_id, organization_id)
        return self._watch(job_ids, lookup, options, cancel)

    async def _watch(
        self,
        job_ids: JobIds,
        lookup: BatchLookup[ClassifyJob | Running],
        options: PollOptions,
        cancel: Callable[[str], Awaitable[ClassifyJob]] | None,
    ) -> AsyncGenerator[ClassifyJob, None]:
        ids = await distinct_ids(job_ids)
        async with (
            cancelling_on_timeout(cancel),
            aclosing(poll_in_rounds(lookup, ids, options, {}, self._telemetry)) as jobs,
        ):
            async for job in jobs:
                self._telemetry.job_finished(job)
                yield job

    # -- creating, cancelling, deleting ----------------------------------------------------

    async def create_job(
        self,
        file_input: str,
        configuration: ClassifyConfiguration | dict[str, Any] | None = None,
        configuration_id: str | None = None,
        transaction_id: str | None = None,
        webhook_configuration_ids: Iterable[str] | None = None,
        project_id: str | None = None,
        organization_id: str | None = None,
        webhook_configurations: Iterable[WebhookConfiguration | dict[str, Any]] | None = None,
    ) -> ClassifyJob:
        """Start a classify job on ``file_input`` (a file id, URL or parse job id).

        Exactly one of ``configuration`` and ``configuration_id``; rules, lengths and counts are
        checked before sending. ``webhook_configurations`` (records or plain dicts) are endpoints
        the service notifies as the job changes state. Without a ``transaction_id`` one is made
        (a UUID): the service returns the original job for a reused id, so a POST retried after
        a lost response makes one job.
        """
        body = check_create(
            file_input=file_input,
            configuration=configuration,
            configuration_id=configuration_id,
            transaction_id=transaction_id,
            webhook_configuration_ids=webhook_configuration_ids,
            webhook_configurations=webhook_configurations,
        )
        return await self._create(body, project_id, organization_id)

    async def _create(
        self, body: dict[str, Any], project_id: str | None, organization_id: str | None
    ) -> ClassifyJob:
        params = self._scope(project_id, organization_id)
        with self._telemetry.call("create_job", "create") as scope:
            job = await self._transport.request(
                "POST", JOBS_PATH, kind="create", params=params, json=body, decode=read_job
            )
            scope.set_attribute("aio_classify.job.id", job.id)
            return job

    async def run(
        self,
        file_input: str,
        configuration: ClassifyConfiguration | dict[str, Any] | None = None,
        configuration_id: str | None = None,
        transaction_id: str | None = None,
        webhook_configuration_ids: Iterable[str] | None = None,
        project_id: str | None = None,
        organization_id: str | None = None,
        poll_interval: float = 1.0,
        max_interval: float = 5.0,
        timeout: float = 7200.0,  # noqa: ASYNC109 (the contract's name: the whole wait)
        *,
        raise_on_failure: bool = True,
        webhook_configurations: Iterable[WebhookConfiguration | dict[str, Any]] | None = None,
        events: WebhookReceiver | None = None,
        fallback_interval: float = 30.0,
        cancel_on_timeout: bool = False,
    ) -> ClassifyJob:
        """``create_job`` then ``wait_for_job`` (through the shared schedule, with ``events``
        and ``fallback_interval`` as there); the polling options are checked before the job is
        created. On ``PollingTimeoutError`` the job is left running (its id is in
        ``.pending``), unless ``cancel_on_timeout`` cancels it first (best effort)."""
        PollOptions.checked(
            poll_interval, max_interval, timeout, events=events, fallback_interval=fallback_interval
        )
        check_bool(cancel_on_timeout, "cancel_on_timeout")
        body = check_create(
            file_input=file_input,
            configuration=configuration,
            configuration_id=configuration_id,
            transaction_id=transaction_id,
            webhook_configuration_ids=webhook_configuration_ids,
            webhook_configurations=webhook_configurations,
        )
        job = await self._create(body, project_id, organization_id)
        return await self.wait_for_job(
            job.id,
            poll_interval=poll_interval,
            max_interval=max_interval,
            timeout=timeout,
            raise_on_failure=raise_on_failure,
            project_id=project_id,
            organization_id=organization_id,
            events=events,
            fallback_interval=fallback_interval,
            cancel_on_timeout=cancel_on_timeout,
        )

    async def cancel_job(
        self, job_id: str, *, project_id: str | None = None, organization_id: str | None = None
    ) -> ClassifyJob:
        """Cancel a job; returns it CANCELLED.

        Idempotent: if the service refuses because the job already ended (409, or 400) and it
        ended CANCELLED, that job is returned. This is what makes a retried cancel whose first
        attempt went through (the response was lost) succeed. A job that ended COMPLETED or
        FAILED raises the service's ``ConflictError`` / ``BadRequestError``.
        """
        path = job_path(check_job_id(job_id), "cancel")
        params = self._scope(project_id, organization_id)
        with self._telemetry.call("cancel_job", "cancel"):
            return await self._cancel(job_id, path, params, project_id, organization_id)

    async def _cancel(
        self,
        job_id: str,
        path: str,
        params: Query,
        project_id: str | None,
        organization_id: str | None,
    ) -> ClassifyJob:
        try:
            return await self._transport.request(
                "POST", path, kind="cancel", params=params, decode=read_job
            )
        except (ConflictError, BadRequestError) as refused:
            job = await self.get_job(job_id, project_id=project_id, organization_id=organization_id)
            if job.status == JobStatus.CANCELLED:
                return job
            raise refused

    async def delete_job(
        self, job_id: str, *, project_id: str | None = None, organization_id: str | None = None
    ) -> None:
        """Delete a terminal job; a job still running is refused (``ConflictError``)."""
        path = job_path(check_job_id(job_id))
        params = self._scope(project_id, organization_id)
        with self._telemetry.call("delete_job", "delete"):
            await self._transport.request(
                "DELETE", path, kind="delete", params=params, decode=json_body
            )
