"""Every check of a caller's argument: bad input fails here, before any request.

One rule everywhere: a value of the wrong type is a ``TypeError``; a value of the right type but
out of range or empty is a ``ValueError``. The message starts with the name of the argument the
caller passed (``job_ids item``, ``configuration.rules[0].type``), so the error points at the
caller's own code. Checks return the value in the form the rest of the client uses.
"""

from __future__ import annotations

import ipaddress
import math
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiohttp
from yarl import URL

from ._core.call_kinds import CALL_KINDS, CallKind
from ._core.dates import to_utc
from ._core.models import ClassifyConfiguration, ClassifyRule, JobStatus, WebhookConfiguration
from ._core.sanitize import shorten
from ._decode.conversion import (
    create_body,
    is_text,
    structure_configuration,
    structure_webhook_configuration,
)

__all__ = [
    "CheckedIds",
    "check_api_key",
    "check_base_url",
    "check_bool",
    "check_configuration",
    "check_create",
    "check_datetime",
    "check_given_ids",
    "check_headers",
    "check_int",
    "check_iterable",
    "check_job_id",
    "check_number",
    "check_optional_seconds",
    "check_optional_str",
    "check_poll_timing",
    "check_proxy",
    "check_query",
    "check_rate_limit",
    "check_seconds",
    "check_session",
    "check_status",
    "check_str_list",
    "check_text",
    "check_webhook_configurations",
    "iso_datetime",
]

#: Limits of the create request in the service's spec (2026-08); ``rules[].description`` was
#: 10..500 on the 2026-03 page and became 10..2000 in 2026-07.
RULE_TYPE_LENGTH = (1, 50)
RULE_DESCRIPTION_LENGTH = (10, 2000)
MAX_FILE_INPUT_LENGTH = 200
MAX_TRANSACTION_ID_LENGTH = 255
MAX_WEBHOOK_CONFIGURATION_IDS = 4


def check_api_key(api_key: Any) -> str:
    """A key that can go into an ``Authorization`` header as is. The messages never repeat it."""
    if not api_key:
        raise ValueError(
            "no API key: pass api_key=... or set the LLAMA_CLOUD_API_KEY environment variable"
        )
    key = check_text(api_key, "api_key")
    for position, char in enumerate(key):
        if char.isspace() or not char.isprintable():
            raise ValueError(
                f"api_key contains whitespace or a control character (at position {position}); "
                "copy the key again without spaces or line breaks"
            )
    return key


def check_base_url(base_url: str) -> URL:
    """Refuse a URL that would send the key in clear text to anything but this machine."""
    url = URL(base_url)
    if url.raw_user is not None or url.raw_password is not None:
        # Not repeated in the message: what sits before the "@" is usually a password.
        raise ValueError(
            "base_url must not contain user info (user:password@host); "
            "the API key is the only credential sent"
        )
    if url.scheme not in {"http", "https"} or not url.host:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if url.scheme == "http" and not _is_loopback(url.host):
        raise ValueError(
            f"base_url {base_url!r} uses plain http:// for a host that is not loopback; "
            "use https:// so the API key is never sent in clear text"
        )
    return url.with_query(None).with_fragment(None)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


#: What an HTTP header name may hold (RFC 9110 ``token``).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Control characters a header value must not hold (CR and LF would start a new header).
_HEADER_VALUE_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def check_headers(headers: Any, name: str) -> dict[str, str]:
    """Headers to send on every request: str names (HTTP tokens) and str values with no CR,
    LF or other control character, never ``Authorization`` (the client's key)."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise TypeError(f"{name} must be a mapping of str to str, not {type(headers).__name__}")
    checked: dict[str, str] = {}
    for header, value in headers.items():
        if not isinstance(header, str) or not isinstance(value, str):
            raise TypeError(
                f"{name} must map str to str; got {type(header).__name__} to {type(value).__name__}"
            )
        if not _HEADER_NAME.fullmatch(header):
            raise ValueError(f"{name} has a header name that is not an HTTP token: {header!r}")
        if header.lower() == "authorization":
            raise ValueError(
                f"{name} must not set {header!r}: the client sends its own Authorization "
                "(the API key)"
            )
        if _HEADER_VALUE_CONTROL.search(value):
            raise ValueError(f"{name}[{header!r}] holds a control character (CR, LF, ...); refused")
        checked[header] = value
    return checked


def check_query(query: Any, name: str, *, reserved: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """Query parameters to add to every request: str names and values, none of ``reserved``
    (the parameters the client sends itself)."""
    if query is None:
        return ()
    if not isinstance(query, Mapping):
        raise TypeError(f"{name} must be a mapping of str to str, not {type(query).__name__}")
    for parameter, value in query.items():
        if not isinstance(parameter, str) or not isinstance(value, str):
            raise TypeError(
                f"{name} must map str to str; got {type(parameter).__name__} "
                f"to {type(value).__name__}"
            )
        if not parameter:
            raise ValueError(f"{name} has an empty parameter name")
        if parameter in reserved:
            raise ValueError(
                f"{name} must not set {parameter!r}: the client sends that parameter itself"
            )
    return tuple(query.items())


def check_proxy(proxy: Any) -> URL | None:
    """A proxy URL, http:// or https:// with a host. The messages never repeat the URL: it
    may hold a password."""
    if proxy is None:
        return None
    if not isinstance(proxy, str | URL):
        raise TypeError(f"proxy must be a URL str, not {type(proxy).__name__}")
    try:
        url: URL | None = URL(proxy)
    except (ValueError, TypeError):
        url = None
    if url is None or url.scheme not in {"http", "https"} or not url.host:
        raise ValueError("proxy must be an http:// or https:// URL with a host")
    return url


def check_session(session: Any) -> aiohttp.ClientSession | None:
    if session is not None and not isinstance(session, aiohttp.ClientSession):
        raise TypeError(f"session must be an aiohttp.ClientSession, not {type(session).__name__}")
    return session


def check_status(status: Any, name: str = "status") -> JobStatus | None:
    if status is None:
        return None
    if not isinstance(status, str):
        raise TypeError(f"{name} must be a JobStatus or str, not {type(status).__name__}")
    try:
        return JobStatus(status)
    except ValueError:
        allowed = ", ".join(member.value for member in JobStatus)
        raise ValueError(f"{name} must be one of {allowed}; got {status!r}") from None


def check_int(value: Any, name: str, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bounds}; got {value}")
    return value


def check_text(value: Any, name: str, *, max_length: int | None = None) -> str:
    """A non-empty str, for values the service needs as given (ids, inputs, keys)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"{name} must be at most {max_length} characters; got {len(value)}")
    if not is_text(value):  # it goes into a URL or a JSON body
        raise ValueError(f"{name} is not valid Unicode text (it holds a lone surrogate)")
    return value


def check_job_id(job_id: Any, name: str = "job_id") -> str:
    return check_text(job_id, name)


def check_optional_str(value: Any, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a str or None, not {type(value).__name__}")
    return value


def iso_datetime(value: Any, name: str) -> str | None:
    """A datetime or ISO 8601 string as the ISO text the service expects; naive means UTC."""
    checked = check_datetime(value, name)
    return None if checked is None else checked.isoformat()


def check_datetime(value: Any, name: str) -> datetime | None:
    """A datetime or ISO 8601 string as an aware datetime; naive means UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{name} must be an ISO 8601 date-time; got {value!r}") from None
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime or ISO 8601 str, not {type(value).__name__}")
    return to_utc(value)


def check_number(
    value: Any, name: str, *, what: str, wanted: str, low: float = 0.0, low_allowed: bool = False
) -> float:
    """A finite number above ``low`` (or equal to it, with ``low_allowed``), as a float: the
    one finite-number check. ``bool`` is not a number here, and an integer beyond double range
    is out of range (a ``ValueError``), never an ``OverflowError``. ``what`` says the expected
    type (``"a number of seconds"``), ``wanted`` the expected range, in the messages."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be {what}, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or number < low or (number == low and not low_allowed):
        raise ValueError(f"{name} must be {wanted}; got {shorten(repr(value))}")
    return number


def check_seconds(value: Any, name: str) -> float:
    """A positive, finite number of seconds."""
    return check_number(
        value, name, what="a number of seconds", wanted="a positive number of seconds"
    )


def check_optional_seconds(value: Any, name: str) -> float | None:
    """``None`` (no limit) or a positive, finite number of seconds."""
    return None if value is None else check_seconds(value, name)


def check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {type(value).__name__}")
    return value


def check_rate_limit(rate_limit: Any) -> dict[CallKind, float]:
    """``rate_limit=`` as requests per second per call kind: one number caps every kind, a
    mapping the kinds it names; ``None`` caps none."""
    if rate_limit is None:
        return {}
    if not isinstance(rate_limit, Mapping):
        rate = _check_rate(rate_limit, "rate_limit")
        return dict.fromkeys(CALL_KINDS, rate)
    caps: dict[CallKind, float] = {}
    for kind in rate_limit:
        if kind not in CALL_KINDS:
            raise ValueError(
                f"rate_limit has an unknown call kind {kind!r}; "
                f"the call kinds are {', '.join(CALL_KINDS)}"
            )
        caps[kind] = _check_rate(rate_limit[kind], f"rate_limit[{kind!r}]")
    return caps


def _check_rate(value: Any, name: str) -> float:
    return check_number(
        value,
        name,
        what="a number of requests per second (or a mapping of call kind to number)",
        wanted="a finite number of requests per second above 0",
    )


def check_poll_timing(
    poll_interval: Any, max_interval: Any, timeout: Any
) -> tuple[float, float, float]:
    """``(poll_interval, max_interval, timeout)`` in seconds; the interval may only grow."""
    poll_interval = check_seconds(poll_interval, "poll_interval")
    max_interval = check_seconds(max_interval, "max_interval")
    if max_interval < poll_interval:
        raise ValueError(
            f"max_interval ({max_interval}) must not be below poll_interval ({poll_interval})"
        )
    return poll_interval, max_interval, check_seconds(timeout, "timeout")


def check_iterable(values: Any, name: str) -> None:
    """An iterable or async iterable; a lone ``str`` is refused (it iterates per char)."""
    if isinstance(values, str | bytes):
        raise TypeError(f"{name} must be an iterable of str, not a single str")
    if not (hasattr(values, "__iter__") or hasattr(values, "__aiter__")):
        raise TypeError(
            f"{name} must be an iterable or async iterable of str, not {type(values).__name__}"
        )


class CheckedIds(list[str]):
    """Job ids that have all passed ``check_job_id``: batching reads them without checking each
    again (``check_given_ids`` and ``batching.distinct_ids`` make them)."""


def check_given_ids(job_ids: Any) -> Any:
    """Ids already in memory are all checked now, so a bad one costs no request at all, and
    returned as ``CheckedIds`` (a copy: a later change to the caller's collection cannot slip
    an unchecked id in). An iterator is returned as it is, checked as it is read, before the
    request for each id's batch."""
    check_iterable(job_ids, "job_ids")
    if isinstance(job_ids, list | tuple | set | frozenset | dict):
        return CheckedIds(check_text(job_id, "job_ids item") for job_id in job_ids)
    return job_ids


def check_str_list(values: Any, name: str, *, max_items: int | None = None) -> list[str] | None:
    """A (sync) iterable of non-empty str, read into a list; ``None`` stays ``None``."""
    if values is None:
        return None
    check_iterable(values, name)
    if not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be an iterable of str, not an async iterable")
    items = [check_text(item, f"{name} item") for item in values]
    if max_items is not None and len(items) > max_items:
        raise ValueError(f"{name} may hold at most {max_items} items; got {len(items)}")
    return items


def _records(values: Any, name: str) -> list[Any]:
    """A (sync) iterable of records as a list; a lone str, bytes or dict is refused."""
    if isinstance(values, str | bytes | dict) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be an iterable of records, not {type(values).__name__}")
    return list(values)


def check_webhook_configurations(values: Any) -> list[WebhookConfiguration] | None:
    """``WebhookConfiguration`` records or plain dicts, each field of the type the service
    takes. A dict key that is no field is an error, not dropped: a misspelt
    ``webhook_signing_secret`` would otherwise send unsigned deliveries. Event names and
    output formats are the service's to judge (its list of events grows)."""
    if values is None:
        return None
    checked = []
    for index, item in enumerate(_records(values, "webhook_configurations")):
        name = f"webhook_configurations[{index}]"
        if isinstance(item, dict):
            item = structure_webhook_configuration(item, name)
        if not isinstance(item, WebhookConfiguration):
            raise TypeError(
                f"{name} must be a WebhookConfiguration or a dict, not {type(item).__name__}"
            )
        _check_webhook(item, name)
        checked.append(item)
    return checked


def _check_webhook(webhook: WebhookConfiguration, name: str) -> None:
    for field in ("webhook_url", "webhook_output_format", "webhook_signing_secret"):
        check_optional_str(getattr(webhook, field), f"{name}.{field}")
    for key, value in (webhook.webhook_headers or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"{name}.webhook_headers must map str to str; got key {key!r}")
    for index, event in enumerate(webhook.webhook_events or ()):
        if not isinstance(event, str):
            raise TypeError(
                f"{name}.webhook_events[{index}] must be a str, not {type(event).__name__}"
            )


def check_configuration(
    configuration: Any, configuration_id: Any
) -> tuple[ClassifyConfiguration | None, str | None]:
    """Exactly one of a configuration (record or plain dict) and a configuration id; a
    configuration's rules are checked as the service would, so a bad one costs no request."""
    if configuration is not None and configuration_id is not None:
        raise ValueError("pass either configuration or configuration_id, not both")
    if configuration is None:
        if configuration_id is None:
            raise ValueError("one of configuration or configuration_id is required")
        return None, check_text(configuration_id, "configuration_id")
    if isinstance(configuration, dict):
        configuration = structure_configuration(configuration)
    if not isinstance(configuration, ClassifyConfiguration):
        raise TypeError(
            "configuration must be a ClassifyConfiguration or a dict, "
            f"not {type(configuration).__name__}"
        )
    if not configuration.rules:
        raise ValueError("configuration.rules must hold at least one rule")
    for index, rule in enumerate(configuration.rules):
        _check_rule(rule, f"configuration.rules[{index}]")
    parsing = configuration.parsing_configuration
    if parsing is not None and parsing.max_pages is not None:
        check_int(parsing.max_pages, "configuration.parsing_configuration.max_pages", low=1)
    return configuration, None


def _check_rule(rule: Any, name: str) -> None:
    if not isinstance(rule, ClassifyRule):
        raise TypeError(f"{name} must be a ClassifyRule, not {type(rule).__name__}")
    for field, (low, high) in (
        ("type", RULE_TYPE_LENGTH),
        ("description", RULE_DESCRIPTION_LENGTH),
    ):
        text = getattr(rule, field)
        if not isinstance(text, str):
            raise TypeError(f"{name}.{field} must be a str, not {type(text).__name__}")
        if not low <= len(text) <= high:
            raise ValueError(
                f"{name}.{field} must be {low}..{high} characters; got {len(text)}: {text!r}"
            )


def check_create(
    *,
    file_input: Any,
    configuration: Any,
    configuration_id: Any,
    transaction_id: Any,
    webhook_configuration_ids: Any,
    webhook_configurations: Any,
) -> dict[str, Any]:
    """The create options of ``create_job`` and ``run``, checked once here, as the body of
    ``POST /api/v2/classify``. Without a ``transaction_id`` one is made (a UUID), so a POST
    retried after a lost response makes one job."""
    checked_configuration, checked_configuration_id = check_configuration(
        configuration, configuration_id
    )
    if transaction_id is not None:
        check_text(transaction_id, "transaction_id", max_length=MAX_TRANSACTION_ID_LENGTH)
    return create_body(
        file_input=check_text(file_input, "file_input", max_length=MAX_FILE_INPUT_LENGTH),
        configuration=checked_configuration,
        configuration_id=checked_configuration_id,
        transaction_id=transaction_id or str(uuid.uuid4()),
        webhook_configuration_ids=check_str_list(
            webhook_configuration_ids,
            "webhook_configuration_ids",
            max_items=MAX_WEBHOOK_CONFIGURATION_IDS,
        ),
        webhook_configurations=check_webhook_configurations(webhook_configurations),
    )
