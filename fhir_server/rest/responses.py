"""Building HTTP responses: FHIR JSON, version headers, and errors as OperationOutcome."""

from __future__ import annotations

from email.utils import format_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import FhirError, Issue, NotModified, operation_outcome
from ..json_io import dump_json
from ..storage import StoredResource
from .negotiation import FHIR_JSON, return_preference

__all__ = ["fhir_response", "error_response", "resource_response", "version_headers"]


def _pretty(request: Request | None) -> bool:
    return request is not None and request.query_params.get("_pretty") == "true"


def fhir_response(
    body: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    request: Request | None = None,
    media_type: str = FHIR_JSON,
) -> Response:
    return Response(
        dump_json(body, pretty=_pretty(request)),
        status_code=status,
        headers=headers,
        media_type=f"{media_type}; charset=utf-8",
    )


def error_response(error: FhirError, request: Request | None = None) -> Response:
    if isinstance(error, NotModified):
        return Response(status_code=304, headers=error.headers)
    return fhir_response(error.outcome(), error.status, error.headers, request)


def version_headers(stored: StoredResource, base: str) -> dict[str, str]:
    return {
        "ETag": stored.etag,
        "Last-Modified": format_datetime(stored.last_updated, usegmt=True),
        "Location": f"{base}/{stored.resource_type}/{stored.id}/_history/{stored.vid}",
    }


def resource_response(
    request: Request,
    stored: StoredResource,
    base: str,
    status: int = 200,
    body: dict[str, Any] | None = None,
    media_type: str = FHIR_JSON,
    warnings: list[Issue] | None = None,
) -> Response:
    """A write's response, shaped by ``Prefer: return=`` (``OperationOutcome`` also
    carries the validation's warnings)."""
    headers = version_headers(stored, base)
    prefer = return_preference(request)
    if prefer == "minimal":
        return Response(status_code=status, headers=headers)
    if prefer == "OperationOutcome":
        verb = "created" if stored.created else "updated"
        outcome = operation_outcome([Issue(
            "information", "informational",
            f"{stored.resource_type}/{stored.id} {verb}, version {stored.vid}",
        ), *(warnings or [])])
        return fhir_response(outcome, status, headers, request, media_type)
    return fhir_response(body if body is not None else stored.resource, status, headers,
                         request, media_type)
