"""patch: JSON Patch and FHIRPath Patch on an instance, plain or conditional (the spec's
http page, 3.1.0.6).

Reading the current version, applying the patch, validating and writing the new version
happen in one MongoDB transaction: a concurrent write makes the transaction conflict and
start again on the newer version, so no change is lost. With ``If-Match`` a newer version
is a 412 instead.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from starlette.requests import Request
from starlette.responses import Response

from ..auth.restriction import current_restriction
from ..errors import InvalidRequest, NotFound, PreconditionFailed, UnsupportedMediaType
from ..ids import check_id
from ..json_io import parse_json
from ..patch import apply_fhirpath_patch, apply_json_patch
from ..repository import StoredResource
from .body import check_resource, read_body
from .context import services_of
from .negotiation import JSON_TYPES, body_media_type, check_accept
from .preconditions import if_match_version
from .responses import resource_response
from .write import search_params_of, validate_or_raise

__all__ = ["patch", "conditional_patch", "JSON_PATCH"]

JSON_PATCH = "application/json-patch+json"


async def _patch_document(request: Request, limit: int) -> tuple[str, Any]:
    """(content type, parsed body) of a PATCH: JSON Patch or FHIRPath Patch Parameters."""
    content_type = body_media_type(request)
    if content_type not in JSON_TYPES and content_type != JSON_PATCH:
        raise UnsupportedMediaType(
            f"PATCH takes {JSON_PATCH} (JSON Patch) or application/fhir+json (FHIRPath "
            f"Patch Parameters), not '{content_type[:80] or 'no Content-Type'}'"
        )
    body = await read_body(request, limit)
    if not body.strip():
        raise InvalidRequest("The PATCH body is empty")
    return content_type, parse_json(body)


async def patch(request: Request, resource_type: str, rid: str) -> Response:
    media = check_accept(request)
    check_id(rid)
    services = services_of(request)
    content_type, document = await _patch_document(request, services.settings.max_body_bytes)
    apply = apply_json_patch if content_type == JSON_PATCH else apply_fhirpath_patch
    expected = if_match_version(request)
    repository = services.repository

    async def work(session: AsyncClientSession) -> StoredResource:
        current = await repository.read(resource_type, rid, session)
        if expected is not None and expected != current.vid:
            raise PreconditionFailed(
                f"Version conflict: If-Match W/\"{expected}\" but the current version is "
                f"W/\"{current.vid}\""
            )
        assert current.resource is not None
        patched = apply(current.resource, document)
        check_resource(patched, resource_type, rid, require_id=True)
        validate_or_raise(request, patched)
        return await repository.update(patched, rid, if_match=current.vid, method="PATCH",
                                       session=session)

    stored = await repository.in_transaction(work)
    return resource_response(request, stored, services.base, 200, media_type=media)


async def conditional_patch(request: Request, resource_type: str) -> Response:
    services = services_of(request)
    params = search_params_of(request.url.query)
    if not params:
        raise InvalidRequest("A conditional patch needs search parameters")
    found = await services.search.match_ids(resource_type, params, limit=2,
                                            **await current_restriction(services.search))
    if len(found) > 1:
        raise PreconditionFailed(f"The conditional patch matches more than one {resource_type}")
    if not found:
        raise NotFound(f"No {resource_type} matches the conditional patch")
    return await patch(request, resource_type, found[0])
