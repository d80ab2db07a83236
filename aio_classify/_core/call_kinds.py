"""The kinds of call the service answers, named once: rate limits, throttling and the checks of
a caller's ``rate_limit`` all speak of them, from different layers."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["CALL_KINDS", "CallKind"]

CallKind = Literal["list", "get", "create", "cancel", "delete"]
CALL_KINDS: tuple[CallKind, ...] = get_args(CallKind)
