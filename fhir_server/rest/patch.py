"""patch: JSON Patch and FHIRPath Patch on an instance, plain or conditional."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..errors import InvalidRequest, PreconditionFailed, UnsupportedMediaType
from ..ids import check_id
from ..json_io import parse_json
from ..patch import apply_fhirpath_patch, apply_json_patch
from .body import check_resource, read_body
from .context import services_of
from .negotiation import JSON_TYPES, body_media_type, check_accept
from .preconditions import if_match_version
from .responses import resource_response
from .write import search_params_of, validate_or_raise

__all__ = ["patch", "conditional_patch"]


async def patch(request: Request, resource_type: str, rid: str) -> Response:
    media = check_accept(request)
    check_id(rid)
    services = services_of(request)
    body = await read_body(request, services.settings.max_body_bytes)
    content_type = body_media_type(request)
    if content_type not in JSON_TYPES and content_type != "application/json-patch+json":
        raise UnsupportedMediaType(
            f"PATCH takes application/json-patch+json (JSON Patch) or application/fhir+json "
            f"(FHIRPath Patch Parameters), not '{content_type or 'no Content-Type'}'"
        )
    if not body.strip():
        raise InvalidRequest("The PATCH body is empty")
    document = parse_json(body)
    expected = if_match_version(request)
    for _attempt in range(5):  # without If-Match, a concurrent write means: patch again
        current = await services.repository.read(resource_type, rid)
        if expected is not None and expected != current.vid:
            raise PreconditionFailed(
                f"Version conflict: If-Match W/\"{expected}\" but the current version is "
                f"W/\"{current.vid}\""
            )
        assert current.resource is not None
        if content_type == "application/json-patch+json":
            patched = apply_json_patch(current.resource, document)
        else:
            patched = apply_fhirpath_patch(current.resource, document)
        check_resource(patched, resource_type, rid, require_id=True)
        validate_or_raise(request, patched)
        try:
            stored = await services.repository.update(
                patched, rid, if_match=current.vid, method="PATCH"
            )
            break
        except PreconditionFailed:
            if expected is not None:
                raise
    else:
        raise PreconditionFailed(f"{resource_type}/{rid} kept changing; try the patch again")
    return resource_response(request, stored, services.base, 200, media_type=media)


async def conditional_patch(request: Request, resource_type: str) -> Response:
    services = services_of(request)
    params = search_params_of(request.url.query)
    if not params:
        raise InvalidRequest("A conditional patch needs search parameters")
    found = await services.search.match_ids(resource_type, params, limit=2)
    if len(found) > 1:
        raise PreconditionFailed(f"The conditional patch matches more than one {resource_type}")
    if not found:
        from ..errors import NotFound

        raise NotFound(f"No {resource_type} matches the conditional patch")
    return await patch(request, resource_type, found[0])
