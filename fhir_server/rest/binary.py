"""Binary over HTTP (R4 binary.html#rest): raw content in and out, or FHIR JSON.

``POST [base]/Binary`` and ``PUT [base]/Binary/[id]`` take the raw content with its own
``Content-Type`` (PDF, JPEG, DICOM, ...) and ``X-Security-Context``, streamed into GridFS;
a ``application/fhir+json`` body is a Binary resource with base64 ``data``. ``GET`` returns
the raw bytes with the stored ``Content-Type`` unless the client asks for FHIR JSON
(``Accept`` or ``_format``), then the resource with ``data`` in base64, also streamed.
"""

from __future__ import annotations

import base64
from email.utils import format_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .. import interactions
from ..errors import InvalidRequest, InvalidResource, PayloadTooLarge
from ..ids import check_id
from ..json_io import dump_json
from ..storage import StoredResource
from ..storage.binary import (
    BinaryStore,
    content_id,
    fhir_json_chunks,
    fhir_json_length,
    metadata_of,
    with_content,
)
from .body import check_resource, read_resource
from .context import caller_of, services_of
from .negotiation import FHIR_JSON, body_media_type, check_accept
from .preconditions import check_read_preconditions, if_match_version
from .responses import resource_response

__all__ = ["handles", "dispatch"]

FHIR_BODY_TYPES = {FHIR_JSON, "application/json+fhir"}
_FHIR_ACCEPT = {FHIR_JSON, "application/json+fhir", "application/json"}


def handles(method: str, segments: list[str]) -> bool:
    """The Binary interactions this module serves; the others go the normal way."""
    n = len(segments)
    return (n == 1 and method == "POST") or (n == 2 and method in ("GET", "PUT")) or (
        n == 4 and method == "GET" and segments[2] == "_history")


async def dispatch(request: Request, segments: list[str]) -> Response:
    method = "GET" if request.method == "HEAD" else request.method
    if method == "POST":
        return await _write(request, None)
    rid = check_id(segments[1])
    if method == "PUT":
        return await _write(request, rid)
    caller = caller_of(request)
    if len(segments) == 4:
        if not segments[3].isdigit():
            raise InvalidRequest(f"Version id must be a number, not '{segments[3][:40]}'")
        stored = await interactions.vread(caller, "Binary", rid, int(segments[3]))
    else:
        stored = await interactions.read(caller, "Binary", rid)
    return await _read(request, stored)


# -- writing ------------------------------------------------------------------------

def _security_context(request: Request) -> dict[str, Any] | None:
    value = request.headers.get("x-security-context")
    if value is None:
        return None
    if not value.strip() or len(value) > 1024:
        raise InvalidRequest("X-Security-Context must be a reference such as Patient/123")
    return {"reference": value.strip()}


async def _raw_upload(request: Request, store: BinaryStore, rid: str | None
                      ) -> tuple[dict[str, Any], str]:
    limit = services_of(request).settings.max_binary_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Binary content of {declared} bytes exceeds the limit of "
                              f"{limit} bytes (setting FHIR_MAX_BINARY_BYTES)")
    content_type = request.headers.get("content-type", "").strip()
    if not content_type:
        raise InvalidRequest("A raw Binary upload needs the Content-Type of its content")
    resource: dict[str, Any] = {"resourceType": "Binary", "contentType": content_type}
    security = _security_context(request)
    if security is not None:
        resource["securityContext"] = security
    if rid is not None:
        resource["id"] = rid
    interactions.validate(caller_of(request), resource)
    file_id = await store.upload(request.stream(), limit, content_type)
    return with_content(resource, file_id), file_id


async def _fhir_upload(request: Request, store: BinaryStore, rid: str | None
                       ) -> tuple[dict[str, Any], str | None]:
    services = services_of(request)
    resource = await read_resource(request, services.settings.max_body_bytes)
    check_resource(resource, "Binary", rid, require_id=rid is not None)
    if rid is None:
        resource = {k: v for k, v in resource.items() if k != "id"}
    if "contentType" not in resource:
        raise InvalidResource("Binary.contentType is required")
    interactions.validate(caller_of(request), resource)
    return await store.externalize(resource, services.settings.max_binary_bytes)


async def _write(request: Request, rid: str | None) -> Response:
    media = check_accept(request)
    caller = caller_of(request)
    store = caller.services.storage.binary
    if body_media_type(request) in FHIR_BODY_TYPES:
        resource, file_id = await _fhir_upload(request, store, rid)
    else:
        resource, file_id = await _raw_upload(request, store, rid)
    try:
        if rid is None:
            stored = (await interactions.create(caller, resource)).stored
        else:
            stored = await interactions.update(caller, resource, rid,
                                               if_match=if_match_version(request))
    except BaseException:
        if file_id is not None:
            await store.delete(file_id)
        raise
    status = 201 if stored.created else 200
    assert stored.resource is not None
    return resource_response(request, stored, caller.base, status,
                             body=metadata_of(stored.resource), media_type=media)


# -- reading ------------------------------------------------------------------------

def _wants_fhir_json(request: Request, content_type: str) -> bool:
    requested = request.query_params.get("_format")
    if requested:
        check_accept(request)
        return True
    accepted = [part.split(";")[0].strip().lower()
                for part in request.headers.get("accept", "").split(",")]
    if content_type.split(";")[0].strip().lower() in accepted:
        return False
    return any(media in _FHIR_ACCEPT for media in accepted)


def _headers(stored: StoredResource, base: str) -> dict[str, str]:
    headers = {"ETag": stored.etag,
               "Last-Modified": format_datetime(stored.last_updated, usegmt=True),
               "Content-Location": f"{base}/Binary/{stored.id}/_history/{stored.vid}"}
    security = (stored.resource or {}).get("securityContext", {}).get("reference")
    if isinstance(security, str):
        headers["X-Security-Context"] = security
    return headers


async def _read(request: Request, stored: StoredResource) -> Response:
    check_read_preconditions(request, stored)
    services = services_of(request)
    resource = stored.resource
    assert resource is not None
    content_type = resource.get("contentType", "application/octet-stream")
    headers = _headers(stored, services.base)
    file_id = content_id(resource)
    if file_id is None:
        return _inline(request, resource, content_type, headers)
    content = await services.storage.binary.open(file_id)
    if _wants_fhir_json(request, content_type):
        headers["Content-Length"] = str(fhir_json_length(resource, content.length))
        body = fhir_json_chunks(resource, content)
        media = f"{check_accept(request)}; charset=utf-8"
    else:
        headers["Content-Length"] = str(content.length)
        body = content.read()
        media = content_type
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers, media_type=media)
    return StreamingResponse(body, 200, headers, media_type=media)



def _inline(request: Request, resource: dict[str, Any], content_type: str,
            headers: dict[str, str]) -> Response:
    """A Binary written with its ``data`` inline (not through this module)."""
    if _wants_fhir_json(request, content_type):
        return Response(dump_json(resource), 200, headers,
                        media_type=f"{check_accept(request)}; charset=utf-8")
    data = base64.b64decode(resource.get("data", ""))
    return Response(data, 200, headers, media_type=content_type)
