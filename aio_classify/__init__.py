"""Async-first client for LlamaCloud Classify v2 jobs.

Everything a caller needs is importable from here: ``ClassifyClient`` (listing, parallel scans,
batched lookups, creating, waiting, cancelling, deleting), ``RetryPolicy``, the records
(``ClassifyJob``, ``ClassifyConfiguration``, ``WebhookConfiguration`` ...) and the exception
tree under ``ClassifyError``. Three neighbours are imported on purpose, by name:
``aio_classify.webhooks`` (``WebhookReceiver``: verify deliveries and let waits react to them),
``aio_classify.testing`` (``FakeClassifyServer``, a loopback fake of the service) and
``aio_classify.pytest_plugin`` (its fixtures, installed as a pytest plugin). The command line is
``aio_classify.cli`` (``aio-classify``).
"""

from ._client import DEFAULT_BASE_URL, ClassifyClient
from ._core.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClassifyError,
    ConflictError,
    InternalServerError,
    JobFailedError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    PollingTimeoutError,
    RateLimitError,
    ResponseValidationError,
    UnprocessableEntityError,
)
from ._core.models import (
    ClassifyConfiguration,
    ClassifyJob,
    ClassifyListResponse,
    ClassifyMode,
    ClassifyResult,
    ClassifyRule,
    JobStatus,
    Page,
    ParsingConfiguration,
    Usage,
    WebhookConfiguration,
)
from ._core.version import VERSION
from ._http.retry import RetryPolicy
from ._jobs.pagination import JobPager

__version__ = VERSION
"""The installed distribution's version (from its metadata, so never out of step)."""

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClassifyClient",
    "ClassifyConfiguration",
    "ClassifyError",
    "ClassifyJob",
    "ClassifyListResponse",
    "ClassifyMode",
    "ClassifyResult",
    "ClassifyRule",
    "ConflictError",
    "InternalServerError",
    "JobFailedError",
    "JobPager",
    "JobStatus",
    "NotFoundError",
    "Page",
    "PaginationError",
    "ParsingConfiguration",
    "PermissionDeniedError",
    "PollingTimeoutError",
    "RateLimitError",
    "ResponseValidationError",
    "RetryPolicy",
    "UnprocessableEntityError",
    "Usage",
    "WebhookConfiguration",
]
