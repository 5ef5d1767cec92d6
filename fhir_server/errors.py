"""One error taxonomy: every failure is an OperationOutcome with its HTTP status.

Each exception class fixes the HTTP status and the default ``issue.code``; the REST layer
maps any :class:`FhirError` to a response in one place (``rest.responses``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from profiles.issues import Issue

__all__ = [
    "Issue",
    "FhirError",
    "InvalidRequest",
    "InvalidResource",
    "BusinessRuleViolation",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Gone",
    "MethodNotAllowed",
    "NotAcceptable",
    "Conflict",
    "PreconditionFailed",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "TooManyRequests",
    "NotModified",
    "operation_outcome",
]


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [i.to_fhir() for i in issues]}


@dataclass
class FhirError(Exception):
    """Base class: carries the issues that become the OperationOutcome."""

    message: str = ""
    issues: list[Issue] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    status = 500
    code = "exception"

    def __post_init__(self) -> None:
        super().__init__(self.message)
        if not self.issues:
            self.issues = [Issue("error", self.code, self.message)]

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)


class InvalidRequest(FhirError):
    status, code = 400, "invalid"


class InvalidResource(FhirError):
    """The resource breaks the structure rules of its StructureDefinition."""

    status, code = 400, "structure"


class BusinessRuleViolation(FhirError):
    status, code = 422, "business-rule"


class Unauthorized(FhirError):
    status, code = 401, "login"


class Forbidden(FhirError):
    status, code = 403, "forbidden"


class NotFound(FhirError):
    status, code = 404, "not-found"


class Gone(FhirError):
    status, code = 410, "deleted"


class MethodNotAllowed(FhirError):
    status, code = 405, "not-supported"


class NotAcceptable(FhirError):
    status, code = 406, "not-supported"


class Conflict(FhirError):
    status, code = 409, "conflict"


class PreconditionFailed(FhirError):
    status, code = 412, "conflict"


class PayloadTooLarge(FhirError):
    status, code = 413, "too-costly"


class UnsupportedMediaType(FhirError):
    status, code = 415, "not-supported"


class TooManyRequests(FhirError):
    status, code = 429, "throttled"


class NotModified(FhirError):
    """Not an error to the client, but it ends the request early with 304 and no body."""

    status, code = 304, "informational"


class ServiceUnavailable(FhirError):
    status, code = 503, "transient"


class InternalError(FhirError):
    status, code = 500, "exception"
