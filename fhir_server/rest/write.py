"""create, update and delete, plain and conditional (the spec's http page)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from ..auth.restriction import current_restriction
from ..errors import InvalidRequest, InvalidResource, Issue, PreconditionFailed, operation_outcome
from ..ids import check_id
from .body import check_resource, read_resource
from .context import services_of
from .negotiation import check_accept, require_json_body
from .preconditions import if_match_version
from .responses import fhir_response, resource_response

__all__ = ["create", "update", "delete", "conditional_update", "conditional_delete",
           "validate_or_raise", "search_params_of", "if_none_exist_query"]


def validate_or_raise(request: Request, resource: dict[str, Any]) -> None:
    issues = services_of(request).validator.validate(resource)
    errors = [i for i in issues if i.severity in ("error", "fatal")]
    if errors:
        raise InvalidResource(
            f"{resource.get('resourceType')} failed validation: "
            + "; ".join(i.diagnostics for i in errors[:3]),
            issues=issues,
        )


def search_params_of(query: str) -> list[tuple[str, str]]:
    try:
        params = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:
        raise InvalidRequest(f"Malformed query '{query}': {exc}") from None
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


async def _matches(request: Request, resource_type: str, query: str, what: str) -> list[str]:
    params = search_params_of(query)
    if not params:
        raise InvalidRequest(f"A conditional {what} needs search parameters")
    search = services_of(request).search
    return await search.match_ids(resource_type, params, limit=2,
                                  **await current_restriction(search))


async def create(request: Request, resource_type: str) -> Response:
    media = check_accept(request)
    require_json_body(request)
    services = services_of(request)
    resource = await read_resource(request, services.settings.max_body_bytes)
    check_resource(resource, resource_type, None, require_id=False)
    resource = {k: v for k, v in resource.items() if k != "id"}  # the server assigns ids
    validate_or_raise(request, resource)
    condition = request.headers.get("if-none-exist")
    if condition:
        query = if_none_exist_query(condition, resource_type)
        found = await _matches(request, resource_type, query, "create")
        if len(found) > 1:
            raise PreconditionFailed(
                f"If-None-Exist '{condition}' matches more than one {resource_type}"
            )
        if found:
            existing = await services.repository.read(resource_type, found[0])
            return resource_response(request, existing, services.base, 200, media_type=media)
    stored = await services.repository.create(resource)
    return resource_response(request, stored, services.base, 201, media_type=media)


async def update(request: Request, resource_type: str, rid: str) -> Response:
    media = check_accept(request)
    require_json_body(request)
    check_id(rid)
    services = services_of(request)
    resource = await read_resource(request, services.settings.max_body_bytes)
    check_resource(resource, resource_type, rid, require_id=True)
    validate_or_raise(request, resource)
    stored = await services.repository.update(resource, rid, if_match=if_match_version(request))
    return resource_response(request, stored, services.base, 201 if stored.created else 200,
                             media_type=media)


async def conditional_update(request: Request, resource_type: str) -> Response:
    media = check_accept(request)
    require_json_body(request)
    services = services_of(request)
    resource = await read_resource(request, services.settings.max_body_bytes)
    check_resource(resource, resource_type, None, require_id=False)
    validate_or_raise(request, resource)
    found = await _matches(request, resource_type, request.url.query, "update")
    if len(found) > 1:
        raise PreconditionFailed(
            f"The conditional update matches more than one {resource_type}; "
            "be more selective"
        )
    body_id = resource.get("id")
    if found:
        if body_id is not None and body_id != found[0]:
            raise InvalidResource(
                f"The id in the body ('{body_id}') is not the id of the matching resource "
                f"('{found[0]}')"
            )
        stored = await services.repository.update(
            resource, found[0], if_match=if_match_version(request)
        )
    elif body_id is not None:
        check_id(body_id)
        stored = await services.repository.update(resource, body_id)
    else:
        stored = await services.repository.create(resource)
    return resource_response(request, stored, services.base, 201 if stored.created else 200,
                             media_type=media)


def _deleted_outcome(message: str) -> dict[str, Any]:
    return operation_outcome([Issue("information", "informational", message)])


async def delete(request: Request, resource_type: str, rid: str) -> Response:
    check_accept(request)
    check_id(rid)
    services = services_of(request)
    tombstone = await services.repository.delete(
        resource_type, rid, if_match=if_match_version(request)
    )
    if tombstone is None:
        return fhir_response(_deleted_outcome(f"{resource_type}/{rid} did not exist; "
                                              "nothing was deleted"), 200, request=request)
    return fhir_response(
        _deleted_outcome(f"Deleted {resource_type}/{rid} (version {tombstone.vid})"),
        200, {"ETag": tombstone.etag}, request,
    )


async def conditional_delete(request: Request, resource_type: str) -> Response:
    check_accept(request)
    services = services_of(request)
    found = await _matches(request, resource_type, request.url.query, "delete")
    if len(found) > 1:
        raise PreconditionFailed(
            f"The conditional delete matches more than one {resource_type}; "
            "be more selective"
        )
    if not found:
        return fhir_response(_deleted_outcome("No resource matched; nothing was deleted"),
                             200, request=request)
    tombstone = await services.repository.delete(resource_type, found[0])
    assert tombstone is not None
    return fhir_response(
        _deleted_outcome(f"Deleted {resource_type}/{found[0]} (version {tombstone.vid})"),
        200, {"ETag": tombstone.etag}, request,
    )
