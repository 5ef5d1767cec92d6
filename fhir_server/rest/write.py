"""create, update and delete, plain and conditional (the spec's http page)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from .. import interactions
from ..errors import InvalidRequest, Issue, operation_outcome
from ..ids import check_id
from .body import check_resource, read_resource
from .context import caller_of
from .negotiation import check_accept, require_json_body
from .preconditions import if_match_version
from .responses import fhir_response, resource_response

__all__ = ["create", "update", "delete", "conditional_update", "conditional_delete",
           "search_params_of", "if_none_exist_query"]


def search_params_of(query: str) -> list[tuple[str, str]]:
    try:
        params = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:
        raise InvalidRequest(f"Malformed query '{query[:200]}': {exc}") from None
    return [(k, v) for k, v in params if k not in ("_format", "_pretty")]


def if_none_exist_query(header: str, resource_type: str) -> str:
    """The search query of an ``If-None-Exist`` header (3.1.0.8.1): ``a=b``, ``?a=b``,
    ``Type?a=b`` or a full URL ``[base]/Type?a=b`` for the type being created."""
    target, mark, query = header.strip().partition("?")
    if not mark:
        return target
    named = target.rstrip("/").rsplit("/", 1)[-1]
    if named and named != resource_type:
        raise InvalidRequest(
            f"If-None-Exist '{header[:120]}' searches {named[:40]}, not {resource_type}"
        )
    return query


def _condition(request: Request, resource_type: str) -> list[tuple[str, str]] | None:
    """The create's condition: ``If-None-Exist``, or search parameters in the URL (as
    fhirpy sends them), which are never ignored; both at once must agree."""
    header = request.headers.get("if-none-exist")
    from_header = (search_params_of(if_none_exist_query(header, resource_type))
                   if header else None)
    from_url = search_params_of(request.url.query) or None
    if from_header is not None and from_url is not None and sorted(from_header) != sorted(
            from_url):
        raise InvalidRequest("A create has search parameters both in If-None-Exist and in "
                             "the URL, and they differ; send one condition")
    condition = from_header if from_header is not None else from_url
    if header is not None and not condition:
        raise InvalidRequest("If-None-Exist has no search parameters")
    return condition


async def create(request: Request, resource_type: str) -> Response:
    media = check_accept(request)
    require_json_body(request)
    caller = caller_of(request)
    resource = await read_resource(request, caller.services.settings.max_body_bytes)
    check_resource(resource, resource_type, None, require_id=False)
    resource = {k: v for k, v in resource.items() if k != "id"}  # the server assigns ids
    warnings = interactions.validate(caller, resource)
    created = await interactions.create(caller, resource,
                                        if_none_exist=_condition(request, resource_type))
    return resource_response(request, created.stored, caller.base,
                             201 if created.new else 200, media_type=media,
                             warnings=warnings if created.new else None)


async def update(request: Request, resource_type: str, rid: str) -> Response:
    media = check_accept(request)
    require_json_body(request)
    check_id(rid)
    caller = caller_of(request)
    resource = await read_resource(request, caller.services.settings.max_body_bytes)
    check_resource(resource, resource_type, rid, require_id=True)
    warnings = interactions.validate(caller, resource)
    stored = await interactions.update(caller, resource, rid,
                                       if_match=if_match_version(request))
    return resource_response(request, stored, caller.base, 201 if stored.created else 200,
                             media_type=media, warnings=warnings)


async def conditional_update(request: Request, resource_type: str) -> Response:
    media = check_accept(request)
    require_json_body(request)
    caller = caller_of(request)
    resource = await read_resource(request, caller.services.settings.max_body_bytes)
    check_resource(resource, resource_type, None, require_id=False)
    warnings = interactions.validate(caller, resource)
    stored = await interactions.conditional_update(
        caller, resource, search_params_of(request.url.query),
        if_match=if_match_version(request))
    return resource_response(request, stored, caller.base, 201 if stored.created else 200,
                             media_type=media, warnings=warnings)


def _deleted_outcome(message: str) -> dict[str, Any]:
    return operation_outcome([Issue("information", "informational", message)])


async def delete(request: Request, resource_type: str, rid: str) -> Response:
    check_accept(request)
    caller = caller_of(request)
    tombstone = await interactions.delete(caller, resource_type, rid,
                                          if_match=if_match_version(request))
    if tombstone is None:
        return fhir_response(_deleted_outcome(f"{resource_type}/{rid} did not exist; "
                                              "nothing was deleted"), 200, request=request)
    return fhir_response(
        _deleted_outcome(f"Deleted {resource_type}/{rid} (version {tombstone.vid})"),
        200, {"ETag": tombstone.etag}, request,
    )


async def conditional_delete(request: Request, resource_type: str) -> Response:
    check_accept(request)
    caller = caller_of(request)
    found, tombstone = await interactions.conditional_delete(
        caller, resource_type, search_params_of(request.url.query))
    if found is None or tombstone is None:
        return fhir_response(_deleted_outcome("No resource matched; nothing was deleted"),
                             200, request=request)
    return fhir_response(
        _deleted_outcome(f"Deleted {resource_type}/{found} (version {tombstone.vid})"),
        200, {"ETag": tombstone.etag}, request,
    )
