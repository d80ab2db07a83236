"""What schemathesis reports about the fake that is not a bug in the fake, each with its reason.

Every entry names the failure schemathesis raises, the operations and statuses it may come
from, and, where the allowance is narrower than that, a predicate on the generated case. A
failure that matches no entry fails the run; an entry no failure needed fails it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

LIST = "GET /api/v2/classify"
CREATE = "POST /api/v2/classify"
GET = "GET /api/v2/classify/{job_id}"
CANCEL = "POST /api/v2/classify/{job_id}/cancel"


def _create_body_misses_what_the_description_requires(case: Any) -> bool:
    body = case.body
    if not isinstance(body, Mapping):
        return False
    has_input = any(body.get(key) for key in ("file_input", "file_id", "parse_job_id"))
    one_configuration = (body.get("configuration") is None) != (
        body.get("configuration_id") is None
    )
    return not (has_input and one_configuration)


@attrs.frozen
class Allowed:
    failure: str
    operations: frozenset[str]
    statuses: frozenset[int]
    reason: str
    when: Callable[[Any], bool] | None = None  # called with the schemathesis case

    def matches(self, failure: str, operation: str, status: int, case: Any) -> bool:
        return (
            failure == self.failure
            and operation in self.operations
            and status in self.statuses
            and (self.when is None or self.when(case))
        )


ALLOWED = (
    Allowed(
        "UndefinedStatusCode",
        frozenset({LIST, CREATE, GET, CANCEL}),
        frozenset({401}),
        "A missing or wrong bearer token answers 401: the spec declares HTTPBearer security "
        "but documents no 401 (the SDK 2.19 raises AuthenticationError for it).",
    ),
    Allowed(
        "UndefinedStatusCode",
        frozenset({GET, CANCEL}),
        frozenset({404}),
        "An unknown job, or one of another project, answers 404: not documented in the spec "
        "(the SDK 2.19 raises NotFoundError for it).",
    ),
    Allowed(
        "UndefinedStatusCode",
        frozenset({CANCEL}),
        frozenset({409}),
        "Cancelling a job already COMPLETED, FAILED or CANCELLED answers 409: the operation's "
        "description says such jobs cannot be cancelled, but no status is documented (the SDK "
        "2.19 raises ConflictError for it).",
    ),
    Allowed(
        "AllowHeaderMismatch",
        frozenset({GET}),
        frozenset({405}),
        "Allow on /api/v2/classify/{job_id} lists DELETE: the service has it and so does the "
        "SDK 2.19 (classify.delete), but this cut of the spec does not document it.",
    ),
    Allowed(
        "RejectedPositiveData",
        frozenset({CREATE}),
        frozenset({422}),
        "A create needs a file input (file_input, or the deprecated file_id / parse_job_id) "
        "and exactly one of configuration / configuration_id: the operation's description "
        "says so, its schema cannot (every field is optional there).",
        when=_create_body_misses_what_the_description_requires,
    ),
    Allowed(
        "RejectedPositiveData",
        frozenset({LIST}),
        frozenset({422}),
        "A page_token the server never issued answers 422: tokens are opaque and made by the "
        "server, which the spec's plain string type cannot say.",
        when=lambda case: bool((case.query or {}).get("page_token")),
    ),
)
