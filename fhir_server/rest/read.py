"""read and vread (the spec's http page, 3.1.0.2 and 3.1.0.3)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..errors import InvalidRequest
from ..subsetting import subset
from .context import services_of
from .negotiation import check_accept
from .preconditions import check_read_preconditions
from .responses import fhir_response, version_headers

__all__ = ["read", "vread"]


async def read(request: Request, resource_type: str, rid: str) -> Response:
    media = check_accept(request)
    services = services_of(request)
    stored = await services.repository.read(resource_type, rid)
    check_read_preconditions(request, stored)
    headers = version_headers(stored, services.base)
    del headers["Location"]
    assert stored.resource is not None
    return fhir_response(subset(stored.resource, request.query_params), 200, headers,
                         request, media)


async def vread(request: Request, resource_type: str, rid: str, vid: str) -> Response:
    media = check_accept(request)
    if not vid.isdigit():
        raise InvalidRequest(f"Version id must be a number, not '{vid}'")
    services = services_of(request)
    stored = await services.repository.vread(resource_type, rid, int(vid))
    headers = version_headers(stored, services.base)
    del headers["Location"]
    assert stored.resource is not None
    return fhir_response(subset(stored.resource, request.query_params), 200, headers,
                         request, media)
