"""Per-route rate limits of the fake server: a token bucket per call kind.

Why: the real service answers 429 when a client sends too fast; tests and benchmarks need a
server that does the same, deterministically, with each kind of hint a server may give
(``Retry-After`` in whole seconds, ``retry-after-ms``, or none at all), so a client's throttling
can be proven against it. Each route's answers are logged (arrival time, throttled or not) for
plots and counts.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal, get_args

import attrs

Hint = Literal["seconds", "ms", "none"]
HINTS: tuple[Hint, ...] = get_args(Hint)

#: The call kinds (as the client names them) and the route each one is served by.
ROUTES: dict[str, str] = {
    "list": "GET /api/v2/classify",
    "create": "POST /api/v2/classify",
    "get": "GET /api/v2/classify/{job_id}",
    "cancel": "POST /api/v2/classify/{job_id}/cancel",
    "delete": "DELETE /api/v2/classify/{job_id}",
}


@attrs.define
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; a request takes one or is refused."""

    rate: float
    burst: float
    hint: Hint
    tokens: float = attrs.field(init=False)
    updated: float = attrs.field(init=False, factory=time.monotonic)

    def __attrs_post_init__(self) -> None:
        self.tokens = self.burst

    def take(self) -> float | None:
        """Take a token: ``None`` when granted, else the seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.rate

    def headers(self, wait: float) -> dict[str, str]:
        """The hint a refusal carries: whole seconds rounded up, milliseconds, or nothing."""
        if self.hint == "seconds":
            return {"Retry-After": str(max(1, math.ceil(wait)))}
        if self.hint == "ms":
            return {"retry-after-ms": str(max(1, math.ceil(wait * 1000)))}
        return {}

    def describe(self) -> dict[str, Any]:
        return {"rate": self.rate, "burst": self.burst, "hint": self.hint}


@attrs.define
class RateLimits:
    """The buckets by call kind, and what each route answered while it had one."""

    buckets: dict[str, TokenBucket] = attrs.field(factory=dict)
    #: Per call kind: ``(time.time(), throttled)`` for every request a bucket judged.
    log: dict[str, list[tuple[float, bool]]] = attrs.field(factory=dict)

    def set(
        self, call: str, rate: float | None, *, burst: float = 1.0, hint: str = "seconds"
    ) -> None:
        """Limit ``call`` (a call kind: list, get, create, cancel, delete) to ``rate`` requests
        a second with bursts of ``burst``; ``rate=None`` lifts the limit."""
        if call not in ROUTES:
            raise ValueError(f"call must be one of {', '.join(ROUTES)}; got {call!r}")
        if rate is None:
            self.buckets.pop(call, None)
            return
        if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a number above 0, got {rate!r}")
        if not (isinstance(burst, int | float) and math.isfinite(burst) and burst >= 1):
            raise ValueError(f"burst must be a number of at least 1, got {burst!r}")
        if hint not in HINTS:
            raise ValueError(f"hint must be one of {', '.join(HINTS)}; got {hint!r}")
        self.buckets[call] = TokenBucket(float(rate), float(burst), hint)

    def check(self, route: str) -> dict[str, str] | None:
        """``None`` when a request to ``route`` ("POST /api/v2/classify") may go on, else the
        headers of its 429."""
        for call, bucket in self.buckets.items():
            if ROUTES[call] == route:
                wait = bucket.take()
                self.log.setdefault(call, []).append((time.time(), wait is not None))
                return None if wait is None else bucket.headers(wait)
        return None

    def describe(self) -> dict[str, Any]:
        """The limits and the answers so far, as the ``/_fake/rate-limit`` route serves them."""
        return {
            "limits": {call: bucket.describe() for call, bucket in self.buckets.items()},
            "answers": {
                call: {
                    "allowed": sum(1 for _, throttled in log if not throttled),
                    "throttled": sum(1 for _, throttled in log if throttled),
                }
                for call, log in self.log.items()
            },
            "log": self.log,
        }
