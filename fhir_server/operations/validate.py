"""``$validate``: check a resource without storing it.

https://hl7.org/fhir/R4/resource-operation-validate.html. The resource comes as the
request body, as the ``resource`` parameter of a Parameters body, or (instance level,
without one) is the stored resource. The answer is 200 with an OperationOutcome listing
every problem, or a single "All OK" information issue.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..errors import InvalidRequest, Issue, operation_outcome
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import Operation, OperationCall

__all__ = ["OPERATIONS"]

_UNSUPPORTED_PARAMETERS = ("mode", "profile")


async def validate(call: OperationCall) -> Response:
    media = check_accept(call.request)
    resource = await _resource_to_validate(call)
    issues = _mismatches(call, resource) + call.services.validator.validate(resource)
    issues += _ignored_parameters(call)
    if not issues:
        issues = [Issue("information", "informational", "All OK")]
    return fhir_response(operation_outcome(issues), 200, request=call.request,
                         media_type=media)


async def _resource_to_validate(call: OperationCall) -> dict[str, Any]:
    body = call.body
    if body is not None and body.get("resourceType") == "Parameters" and (
        call.resource_type != "Parameters" or _parameter(body, "resource") is not None
    ):
        parameter = _parameter(body, "resource")
        body = None if parameter is None else parameter.get("resource")
        if parameter is not None and not isinstance(body, dict):
            raise InvalidRequest("The 'resource' parameter of $validate must hold a resource")
    if body is not None:
        return body
    if call.id is None:
        raise InvalidRequest(
            "$validate needs a resource: send it as the body or as the 'resource' parameter"
        )
    assert call.resource_type is not None
    stored = await call.services.repository.read(call.resource_type, call.id)
    assert stored.resource is not None
    return stored.resource


def _parameter(parameters: dict[str, Any], name: str) -> dict[str, Any] | None:
    for parameter in parameters.get("parameter", []):
        if isinstance(parameter, dict) and parameter.get("name") == name:
            return parameter
    return None


def _mismatches(call: OperationCall, resource: dict[str, Any]) -> list[Issue]:
    """The URL's type (and id) must match the resource's, as on create and update."""
    issues = []
    if call.resource_type and resource.get("resourceType") != call.resource_type:
        issues.append(Issue(
            "error", "invalid",
            f"resourceType '{resource.get('resourceType')}' does not match the URL type "
            f"'{call.resource_type}'", ("resourceType",)))
    if call.id is not None and resource.get("id") not in (None, call.id):
        issues.append(Issue(
            "error", "invalid",
            f"The id in the resource ('{resource.get('id')}') does not match the id in the "
            f"URL ('{call.id}')", ("id",)))
    return issues


def _ignored_parameters(call: OperationCall) -> list[Issue]:
    given = {name for name, _ in call.parameters}
    return [
        Issue("warning", "not-supported",
              f"The $validate parameter '{name}' is not supported yet; the resource was "
              "validated against the base R4 definition only")
        for name in _UNSUPPORTED_PARAMETERS if name in given
    ]


OPERATIONS = [
    Operation(
        name="validate",
        handler=validate,
        type_level=True,
        instance=True,
        definition="http://hl7.org/fhir/OperationDefinition/Resource-validate",
    )
]
