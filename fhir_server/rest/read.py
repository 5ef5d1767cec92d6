"""read and vread (the spec's http page, 3.1.0.2 and 3.1.0.3)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import InvalidRequest
from ..ids import check_id
from ..subsetting import subset
from .context import services_of
from .negotiation import check_accept
from .preconditions import check_read_preconditions
from .responses import fhir_response, version_headers

__all__ = ["read", "vread"]


_VERSION = re.compile(r"^[0-9]{1,18}$")


def _check_summary(request: Request) -> None:
    """``_summary=count`` only makes sense in a search."""
    if request.query_params.get("_summary") == "count":
        raise InvalidRequest("_summary=count applies to searches, not to a read")


def _subset(resource: dict[str, Any] | None, request: Request) -> dict[str, Any]:
    """``_summary`` / ``_elements`` applied to what a read returns."""
    assert resource is not None
    return subset(resource, request.query_params)


async def read(request: Request, resource_type: str, rid: str) -> Response:
    media = check_accept(request)
    check_id(rid)
    _check_summary(request)
    services = services_of(request)
    stored = await services.repository.read(resource_type, rid)
    check_read_preconditions(request, stored)
    headers = version_headers(stored, services.base)
    del headers["Location"]
    return fhir_response(_subset(stored.resource, request), 200, headers, request, media)


async def vread(request: Request, resource_type: str, rid: str, vid: str) -> Response:
    media = check_accept(request)
    if not _VERSION.match(vid):
        raise InvalidRequest(f"Version id must be a number, not '{vid[:40]}'")
    check_id(rid)
    _check_summary(request)
    services = services_of(request)
    stored = await services.repository.vread(resource_type, rid, int(vid))
    headers = version_headers(stored, services.base)
    del headers["Location"]
    return fhir_response(_subset(stored.resource, request), 200, headers, request, media)
