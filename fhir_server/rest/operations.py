"""Invoking ``$operations`` at system, type and instance level."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..access import policy_of
from ..errors import InvalidRequest, MethodNotAllowed, NotFound
from ..ids import check_id
from ..operations import OperationCall
from .body import read_json
from .context import services_of
from .negotiation import JSON_TYPES, body_media_type

__all__ = ["invoke"]


async def invoke(
    request: Request, name: str, resource_type: str | None, rid: str | None
) -> Response:
    services = services_of(request)
    operation = services.operations.get(name)
    level = "instance" if rid else ("type" if resource_type else "system")
    if operation is None or not getattr(operation, level if level != "type" else "type_level"):
        where = f"{resource_type or ''}{'/' + rid if rid else ''}"
        raise NotFound(f"Unknown operation ${name[:60]} at {level} level {where}".rstrip())
    if resource_type and operation.resource_types is not None and (
        resource_type not in operation.resource_types
    ):
        raise NotFound(f"Operation ${name} is not defined for {resource_type}")
    if rid:
        check_id(rid)
    parameters: list[tuple[str, Any]] = list(request.query_params.multi_items())
    body: dict[str, Any] | None = None
    if request.method == "POST":
        if body_media_type(request) in JSON_TYPES:
            value = await read_json(request, services.settings.max_body_bytes)
            if not isinstance(value, dict):
                raise InvalidRequest(f"${name} takes a Parameters resource or a resource")
            body = value
            if value.get("resourceType") == "Parameters":
                for parameter in value.get("parameter", []):
                    if not isinstance(parameter, dict) or "name" not in parameter:
                        raise InvalidRequest("Every Parameters.parameter needs a name")
                    parameters.append((parameter["name"], parameter))
    elif request.method != "GET":
        raise MethodNotAllowed(f"${name} is invoked with GET or POST")
    elif operation.affects_state:
        raise MethodNotAllowed(f"${name} changes data and must be invoked with POST")
    call = OperationCall(request, services, policy_of(request), name, resource_type, rid,
                         parameters, body)
    return await operation.handler(call)
