"""``$validate``: check a resource without storing it.

https://hl7.org/fhir/R4/resource-operation-validate.html. The resource comes as the
request body, as the ``resource`` parameter of a Parameters body, or (instance level,
without one) is the stored resource. ``profile`` adds a profile to check against (its
claims in ``meta.profile`` are always checked); ``mode`` is ``create``, ``update`` (an
id is needed) or ``delete`` (the instance must exist; nothing in this server forbids
deleting it). The answer is 200 with an OperationOutcome listing every problem, warnings
and absent ``mustSupport`` elements included, or a single "All OK" information issue.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .. import interactions
from ..errors import InvalidRequest, Issue, operation_outcome
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import Operation, OperationCall

__all__ = ["OPERATIONS"]

_MODES = ("create", "update", "delete")


async def validate(call: OperationCall) -> Response:
    media = check_accept(call.request)
    mode = _single(call, "mode", ("valueCode", "valueString"))
    profile = _single(call, "profile", ("valueUri", "valueCanonical", "valueString"))
    if mode is not None and mode not in _MODES:
        raise InvalidRequest(f"$validate mode must be one of {', '.join(_MODES)}, not "
                             f"'{mode[:40]}'")
    validator = call.services.validator
    if validator.store is not None:
        await validator.store.refresh()
    if profile is not None and validator.registry.get(profile) is None:
        raise InvalidRequest(f"Unknown profile '{profile[:200]}': install the implementation "
                             "guide that defines it (fhir-server ig install)")
    if mode == "delete":
        issues = await _delete_issues(call)
    else:
        resource = await _resource_to_validate(call)
        issues = _mismatches(call, resource) + _mode_issues(call, mode, resource)
        issues += validator.validate(resource, profiles=[profile] if profile else [],
                                     detailed=True)
    if not any(issue.severity in ("error", "fatal", "warning") for issue in issues):
        issues = [Issue("information", "informational", "All OK"), *issues]
    return fhir_response(operation_outcome(issues), 200, request=call.request,
                         media_type=media)


def _single(call: OperationCall, name: str, keys: tuple[str, ...]) -> str | None:
    """The one value of parameter ``name`` (query string or Parameters body)."""
    values = []
    for given, value in call.parameters:
        if given != name:
            continue
        if isinstance(value, dict):
            value = next((value[k] for k in keys if k in value), None)
        if not isinstance(value, str) or not value:
            raise InvalidRequest(f"The $validate parameter '{name}' needs a value")
        values.append(value)
    if len(values) > 1:
        raise InvalidRequest(f"The $validate parameter '{name}' may be given only once")
    return values[0] if values else None


async def _delete_issues(call: OperationCall) -> list[Issue]:
    if call.id is None:
        raise InvalidRequest("$validate with mode=delete is invoked on an instance: "
                             "[type]/[id]/$validate")
    assert call.resource_type is not None
    await interactions.read(call.caller, call.resource_type, call.id)
    return [Issue("information", "informational",
                  f"{call.resource_type}/{call.id} can be deleted: this server keeps no "
                  "rule that forbids it")]


def _mode_issues(call: OperationCall, mode: str | None, resource: dict[str, Any]
                 ) -> list[Issue]:
    if mode == "update" and call.id is None and not resource.get("id"):
        return [Issue("error", "required", "An update needs the resource id (mode=update)",
                      ("id",))]
    return []


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
    stored = await interactions.read(call.caller, call.resource_type, call.id)
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


OPERATIONS = [
    Operation(
        name="validate",
        handler=validate,
        type_level=True,
        instance=True,
        definition="http://hl7.org/fhir/OperationDefinition/Resource-validate",
    )
]
