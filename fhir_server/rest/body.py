"""Reading and checking request bodies."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..errors import InvalidRequest, InvalidResource, Issue, PayloadTooLarge
from ..interactions.validate import check_resource
from ..json_io import parse_json

__all__ = ["read_body", "read_json", "read_resource", "check_resource"]


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
