"""read and vread (the spec's http page, 3.1.0.2 and 3.1.0.3)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from .. import interactions
from ..errors import InvalidRequest
from ..subsetting import subset
from .context import caller_of
from .negotiation import check_accept
from .preconditions import check_read_preconditions
from .responses import fhir_response, version_headers

__all__ = ["read", "vread"]

_VERSION = re.compile(r"^[0-9]{1,18}$")


def _check_summary(request: Request) -> None:
    """``_summary=count`` only makes sense in a search."""
    if request.query_params.get("_summary") == "count":
        raise InvalidRequest("_summary=count applies to searches, not to a read")


async def read(request: Request, resource_type: str, rid: str) -> Response:
    media = check_accept(request)
    _check_summary(request)
    caller = caller_of(request)
    stored = await interactions.read(caller, resource_type, rid)
    check_read_preconditions(request, stored)
    headers = version_headers(stored, caller.base)
    del headers["Location"]
    assert stored.resource is not None
    return fhir_response(subset(stored.resource, request.query_params), 200, headers, request,
                         media)


async def vread(request: Request, resource_type: str, rid: str, vid: str) -> Response:
    media = check_accept(request)
    if not _VERSION.match(vid):
        raise InvalidRequest(f"Version id must be a number, not '{vid[:40]}'")
    _check_summary(request)
    caller = caller_of(request)
    stored = await interactions.vread(caller, resource_type, rid, int(vid))
    headers = version_headers(stored, caller.base)
    del headers["Location"]
    assert stored.resource is not None
    return fhir_response(subset(stored.resource, request.query_params), 200, headers, request,
                         media)
