"""patch: JSON Patch and FHIRPath Patch on an instance, plain or conditional (the spec's
http page, 3.1.0.6); the work is :mod:`fhir_server.interactions.patch`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .. import interactions
from ..errors import InvalidRequest, UnsupportedMediaType
from ..json_io import parse_json
from ..patch import apply_fhirpath_patch, apply_json_patch
from .body import read_body
from .context import caller_of
from .negotiation import JSON_TYPES, body_media_type, check_accept
from .preconditions import if_match_version
from .responses import resource_response
from .write import search_params_of

__all__ = ["patch", "conditional_patch", "JSON_PATCH"]

JSON_PATCH = "application/json-patch+json"


async def _patcher(request: Request, limit: int) -> interactions.Patcher:
    """The patch document of a PATCH (JSON Patch or FHIRPath Patch Parameters), as a
    function from the current resource to the patched one."""
    content_type = body_media_type(request)
    if content_type not in JSON_TYPES and content_type != JSON_PATCH:
        raise UnsupportedMediaType(
            f"PATCH takes {JSON_PATCH} (JSON Patch) or application/fhir+json (FHIRPath "
            f"Patch Parameters), not '{content_type[:80] or 'no Content-Type'}'"
        )
    body = await read_body(request, limit)
    if not body.strip():
        raise InvalidRequest("The PATCH body is empty")
    document: Any = parse_json(body)
    apply = apply_json_patch if content_type == JSON_PATCH else apply_fhirpath_patch
    return lambda current: apply(current, document)


async def patch(request: Request, resource_type: str, rid: str) -> Response:
    media = check_accept(request)
    caller = caller_of(request)
    apply = await _patcher(request, caller.services.settings.max_body_bytes)
    stored = await interactions.patch(caller, resource_type, rid, apply,
                                      if_match=if_match_version(request))
    return resource_response(request, stored, caller.base, 200, media_type=media)


async def conditional_patch(request: Request, resource_type: str) -> Response:
    media = check_accept(request)
    caller = caller_of(request)
    apply = await _patcher(request, caller.services.settings.max_body_bytes)
    stored = await interactions.conditional_patch(
        caller, resource_type, search_params_of(request.url.query), apply,
        if_match=if_match_version(request))
    return resource_response(request, stored, caller.base, 200, media_type=media)
