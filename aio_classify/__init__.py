"""Async-first client for LlamaCloud Classify v2 jobs."""

from .client import DEFAULT_BASE_URL, ClassifyClient
from .errors import (
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
from .models import (
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
from .pagination import JobPager
from .retry import RetryPolicy

__version__ = "0.1.0"

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
