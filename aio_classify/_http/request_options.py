"""The options one view of a client sends its requests with (``ClassifyClient.with_options``):
the per-attempt ``timeout``, the retry policy, the whole-call ``total_timeout``, and headers and
query parameters added to every request; and the headers every request starts from.

Why apart: the constructor and ``with_options`` check the same values with the same rules, and a
view differs from its parent in exactly this record, so making one costs a few attribute copies.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import Any, TypedDict

import aiohttp
from attrs import evolve, frozen
from multidict import CIMultiDict

from .._core.version import VERSION
from .._validation import (
    check_headers,
    check_int,
    check_optional_seconds,
    check_query,
    check_seconds,
)
from .protocol import CLIENT_QUERY_NAMES
from .retry import RetryPolicy

__all__ = ["USER_AGENT", "CallOptions", "CallOverrides", "base_headers"]

USER_AGENT = (
    f"aio-classify/{VERSION} aiohttp/{aiohttp.__version__} Python/{platform.python_version()}"
)
"""Sent on every request unless ``default_headers`` sets a ``User-Agent`` of its own."""


class CallOverrides(TypedDict, total=False):
    """What ``ClassifyClient.with_options`` may change; each is checked as the constructor
    checks it."""

    timeout: float
    max_retries: int
    retry_policy: RetryPolicy | None
    total_timeout: float | None
    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, str]
    project_id: str | None
    organization_id: str | None


@frozen(kw_only=True, cache_hash=True)
class CallOptions:
    """Checked options (build with ``CallOptions.checked``); ``retry_policy.max_retries`` holds
    the retry count. Hashable and compared by value: coalesced looks share a request only
    between views with equal options."""

    timeout: float
    retry_policy: RetryPolicy
    total_timeout: float | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    extra_query: tuple[tuple[str, str], ...] = ()

    @classmethod
    def checked(
        cls,
        *,
        timeout: Any,
        max_retries: Any,
        retry_policy: Any,
        total_timeout: Any = None,
        extra_headers: Any = None,
        extra_query: Any = None,
    ) -> CallOptions:
        """Every value checked as ``updated`` checks it; ``max_retries`` always sets the count,
        ``retry_policy`` (``None``: the default) only the timing."""
        return _PLACEHOLDER.updated(
            {
                "timeout": timeout,
                "max_retries": max_retries,
                "retry_policy": retry_policy,
                "total_timeout": total_timeout,
                "extra_headers": extra_headers,
                "extra_query": extra_query,
            }
        )

    def updated(self, overrides: Mapping[str, Any]) -> CallOptions:
        """These options with ``overrides`` (any of ``checked``'s names) checked and applied,
        the others kept as they are; an override replaces the value (``extra_headers={}``
        drops them)."""
        changes: dict[str, Any] = {}
        if "timeout" in overrides:
            changes["timeout"] = check_seconds(overrides["timeout"], "timeout")
        if "retry_policy" in overrides or "max_retries" in overrides:
            changes["retry_policy"] = _retry_policy(
                overrides.get("retry_policy", self.retry_policy),
                overrides.get("max_retries", self.retry_policy.max_retries),
            )
        if "total_timeout" in overrides:
            changes["total_timeout"] = check_optional_seconds(
                overrides["total_timeout"], "total_timeout"
            )
        if "extra_headers" in overrides:
            headers = check_headers(overrides["extra_headers"], "extra_headers")
            changes["extra_headers"] = tuple(headers.items())
        if "extra_query" in overrides:
            changes["extra_query"] = check_query(
                overrides["extra_query"], "extra_query", reserved=CLIENT_QUERY_NAMES
            )
        return evolve(self, **changes) if changes else self

    def headers(self, base: CIMultiDict[str]) -> CIMultiDict[str]:
        """``base`` (``base_headers``) with ``extra_headers`` set over it."""
        headers = base.copy()
        for name, value in self.extra_headers:
            headers[name] = value
        return headers


def base_headers(api_key: str, default_headers: Mapping[str, str]) -> CIMultiDict[str]:
    """What every request of a client carries: ``Accept``, our ``User-Agent``, the caller's
    ``default_headers`` (already checked: no ``Authorization``) over them, and the key."""
    headers = CIMultiDict({"Accept": "application/json", "User-Agent": USER_AGENT})
    for name, value in default_headers.items():
        headers[name] = value
    headers["Authorization"] = f"Bearer {api_key}"
    return headers


def _retry_policy(policy: Any, max_retries: Any) -> RetryPolicy:
    if policy is not None and not isinstance(policy, RetryPolicy):
        raise TypeError(f"retry_policy must be a RetryPolicy, not {type(policy).__name__}")
    return evolve(policy or RetryPolicy(), max_retries=check_int(max_retries, "max_retries", low=0))


#: What ``CallOptions.checked`` starts from: every value in it is replaced.
_PLACEHOLDER = CallOptions(timeout=60.0, retry_policy=RetryPolicy())
