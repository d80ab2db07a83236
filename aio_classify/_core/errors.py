"""The exception hierarchy users catch; every error the client raises is a ``ClassifyError``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .sanitize import clip
from .sanitize import message as safe_message

if TYPE_CHECKING:
    from .models import ClassifyJob

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClassifyError",
    "ConflictError",
    "InternalServerError",
    "JobFailedError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "PollingTimeoutError",
    "RateLimitError",
    "ResponseValidationError",
    "UnprocessableEntityError",
]


class ClassifyError(Exception):
    """Base class of every error raised by aio_classify.

    Its message is always printable and short (``sanitize.message``: about 1,000 characters,
    control characters escaped), whatever the server sent; full data stays on attributes.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(safe_message(str(message)))


class APIError(ClassifyError):
    """The service could not be reached, or answered something we cannot use."""


class APIStatusError(APIError):
    """The service answered with a non-2xx status.

    ``retry_after`` and ``should_retry`` are the server's own hints, read from the response
    headers; the retry policy consults them. ``request_id`` is the service's id for the request
    (its ``x-request-id`` header; ``None`` when it sent none): quote it to support. The message
    ends with it.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any,
        headers: Mapping[str, str],
        retry_after: float | None = None,
        should_retry: bool | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.headers = headers
        self.retry_after = retry_after
        self.should_retry = should_retry
        self.request_id = request_id


class BadRequestError(APIStatusError):
    """400."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403."""


class NotFoundError(APIStatusError):
    """404: e.g. an unknown job id."""


class ConflictError(APIStatusError):
    """409: e.g. cancelling a job that already finished."""


class UnprocessableEntityError(APIStatusError):
    """422: the service rejected the query or body."""


class RateLimitError(APIStatusError):
    """429."""


class InternalServerError(APIStatusError):
    """5xx."""


class APIConnectionError(APIError):
    """The request never got an HTTP answer (refused, reset, DNS, TLS...)."""


class APITimeoutError(APIConnectionError):
    """One attempt took longer than the client's ``timeout``, or the call ran out of its
    ``total_timeout``."""


class ResponseValidationError(APIError):
    """A 2xx response that is not JSON, is too big, or has a field missing or of the wrong type.

    ``field`` names the offending field (``"items[3].id"``) when there is one; ``value`` holds
    what the server sent there.
    """

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class PaginationError(ClassifyError):
    """The listing would never end: the server handed back a page token it had already given,
    or kept answering empty pages. ``token`` holds the last token received, whole."""

    def __init__(self, message: str, *, token: str | None = None) -> None:
        super().__init__(message)
        self.token = token


class JobFailedError(ClassifyError):
    """``wait_for_job(raise_on_failure=True)`` saw the job end FAILED or CANCELLED."""

    def __init__(self, job: ClassifyJob) -> None:
        detail = f": {clip(job.error_message, 500)}" if job.error_message else ""
        super().__init__(f"job {clip(job.id, 200)} ended {clip(str(job.status), 50)}{detail}")
        self.job = job


class PollingTimeoutError(ClassifyError, TimeoutError):
    """Jobs were still pending at the deadline; ``finished`` and ``pending`` say which."""

    def __init__(
        self, message: str, *, finished: Mapping[str, ClassifyJob], pending: Iterable[str]
    ) -> None:
        super().__init__(message)
        self.finished = dict(finished)
        self.pending = list(pending)


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The most specific error class for an HTTP status."""
    if status >= 500:
        return InternalServerError
    return _STATUS_ERRORS.get(status, APIStatusError)
