"""``GET /metadata``: the CapabilityStatement, generated from what the server supports."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from profiles.definitions import resource_types

from .. import __version__, clock
from .context import services_of
from .negotiation import check_accept
from .responses import fhir_response

__all__ = ["metadata", "capability_statement"]

_TYPE_INTERACTIONS = ["read", "vread", "update", "patch", "delete", "history-instance",
                      "history-type", "create", "search-type"]


def capability_statement(request: Request) -> dict[str, Any]:
    services = services_of(request)
    operations = services.operations
    resources = []
    for resource_type in sorted(resource_types()):
        resource: dict[str, Any] = {
            "type": resource_type,
            "profile": f"http://hl7.org/fhir/StructureDefinition/{resource_type}",
            "interaction": [{"code": code} for code in _TYPE_INTERACTIONS],
            "versioning": "versioned-update",
            "readHistory": True,
            "updateCreate": True,
            "conditionalCreate": True,
            "conditionalRead": "full-support",
            "conditionalUpdate": True,
            "conditionalDelete": "single",
            "searchParam": services.search.capability(resource_type),
        }
        type_operations = [
            {"name": op.name, "definition": op.definition}
            for op in operations.values()
            if (op.type_level or op.instance) and op.definition
            and (op.resource_types is None or resource_type in op.resource_types)
        ]
        if type_operations:
            resource["operation"] = type_operations
        resources.append(resource)
    system_operations = [{"name": op.name, "definition": op.definition}
                         for op in operations.values() if op.system and op.definition]
    rest: dict[str, Any] = {
        "mode": "server",
        "resource": resources,
        "interaction": [{"code": "transaction"}, {"code": "batch"},
                        {"code": "history-system"}, {"code": "search-system"}],
    }
    if system_operations:
        rest["operation"] = system_operations
    for hook in getattr(request.app.state, "capability_hooks", []):
        hook(request, rest)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": clock.to_instant(clock.now()),
        "kind": "instance",
        "software": {"name": "MCH FHIR Server", "version": __version__},
        "implementation": {"description": "FHIR R4 server for maternal and child health",
                           "url": services.base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json", "application/fhir+json"],
        "rest": [rest],
    }


async def metadata(request: Request) -> Response:
    media = check_accept(request)
    return fhir_response(capability_statement(request), 200, request=request, media_type=media)
