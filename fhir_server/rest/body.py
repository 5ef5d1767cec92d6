"""Reading and checking request bodies."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..errors import InvalidRequest, InvalidResource, Issue, PayloadTooLarge
from ..json_io import parse_json

__all__ = ["read_body", "read_resource", "check_resource"]


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body of {declared} bytes exceeds the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> Any:
    body = await read_body(request, limit)
    if not body.strip():
        raise InvalidRequest("The request body is empty")
    return parse_json(body)


async def read_resource(request: Request, limit: int) -> dict[str, Any]:
    value = await read_json(request, limit)
    if not isinstance(value, dict):
        raise InvalidResource("The body must be a JSON object (a FHIR resource)")
    if "resourceType" not in value:
        raise InvalidResource("The resource has no resourceType", issues=[Issue(
            "error", "required", "The resource has no resourceType", ("resourceType",))])
    return value


def check_resource(
    resource: dict[str, Any], resource_type: str, rid: str | None, *, require_id: bool
) -> None:
    """resourceType must match the URL; on PUT the body's id must match it too; ``meta``,
    which the server completes, must be an object."""
    if resource.get("resourceType") != resource_type:
        shown = str(resource.get("resourceType"))[:80]
        raise InvalidResource(
            f"resourceType '{shown}' does not match the URL type '{resource_type}'",
            issues=[Issue("error", "invalid", f"resourceType '{shown}' does not match the URL "
                          f"type '{resource_type}'", ("resourceType",))],
        )
    if not isinstance(resource.get("meta", {}), dict):
        raise InvalidResource("meta must be a JSON object", issues=[Issue(
            "error", "structure", "meta must be a JSON object", (f"{resource_type}.meta",))])
    if require_id:
        body_id = resource.get("id")
        if body_id is None:
            raise InvalidResource("The resource in a PUT must carry its id", issues=[Issue(
                "error", "required", "The resource in a PUT must carry its id", ("id",))])
        if body_id != rid:
            message = (f"The id in the body ('{str(body_id)[:80]}') does not match the id in "
                       f"the URL ('{rid}')")
            raise InvalidResource(message, issues=[Issue("error", "invalid", message, ("id",))])
