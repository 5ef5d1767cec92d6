"""``GET /metadata``: the CapabilityStatement, generated from what the server supports
(the spec's http page 3.1.0.10 "capabilities" and capabilitystatement.html).

Resource types come from the shipped R4 definitions, search parameters from the search
service, operations from the operation registry, each type's ``supportedProfile`` from
the validator's definition registry (core, project and stored profiles: installed guides
and client-created ones); other parts of the server add to ``rest`` through
``app.state.capability_hooks`` (``rest/plugins.py``; SMART adds ``security``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from profiles.definitions import resource_types

from .. import __version__, clock
from ..operations import Operation
from .context import services_of
from .negotiation import check_accept
from .responses import fhir_response

__all__ = ["metadata", "capability_statement"]

FORMATS = ["application/fhir+json", "json"]
PATCH_FORMATS = ["application/json-patch+json", "application/fhir+json"]
TYPE_INTERACTIONS = ["read", "vread", "update", "patch", "delete", "history-instance",
                     "history-type", "create", "search-type"]
SYSTEM_INTERACTIONS = ["transaction", "batch", "search-system", "history-system"]


def _operation_entry(operation: Operation) -> dict[str, Any]:
    return {"name": operation.name, "definition": operation.definition}


def _resource(resource_type: str, search: Any, operations: list[Operation],
              profiles: list[str]) -> dict[str, Any]:
    """One ``rest.resource``: what the REST core does for every type, plus its searches
    and the profiles the validator knows for it (``supportedProfile``)."""
    resource: dict[str, Any] = {
        "type": resource_type,
        "profile": f"http://hl7.org/fhir/StructureDefinition/{resource_type}",
        **({"supportedProfile": profiles} if profiles else {}),
        "interaction": [{"code": code} for code in TYPE_INTERACTIONS],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalRead": "full-support",
        "conditionalUpdate": True,
        "conditionalDelete": "single",
    }
    search_params = search.capability(resource_type)
    if search_params:
        resource["searchParam"] = search_params
    typed = [_operation_entry(op) for op in operations
             if (op.type_level or op.instance) and op.definition
             and (op.resource_types is None or resource_type in op.resource_types)]
    if typed:
        resource["operation"] = typed
    return resource


def capability_statement(request: Request) -> dict[str, Any]:
    services = services_of(request)
    operations = sorted(services.operations.values(), key=lambda op: op.name)
    profiles = services.validator.registry.supported_profiles()
    rest: dict[str, Any] = {
        "mode": "server",
        "documentation": "FHIR R4 RESTful API: every R4 resource type, JSON only.",
        "resource": [_resource(t, services.search, operations, profiles.get(t, []))
                     for t in sorted(resource_types())],
        "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
    }
    system_operations = [_operation_entry(op) for op in operations
                         if op.system and op.definition]
    if system_operations:
        rest["operation"] = system_operations
    for hook in getattr(request.app.state, "capability_hooks", []):
        hook(request, rest)
    return {
        "resourceType": "CapabilityStatement",
        "name": "MCHFHIRServer",
        "title": "MCH FHIR Server",
        "status": "active",
        "date": clock.to_instant(clock.now()),
        "publisher": "MCH FHIR Server project",
        "kind": "instance",
        "software": {"name": "MCH FHIR Server", "version": __version__},
        "implementation": {"description": "FHIR R4 server for maternal and child health",
                           "url": services.base},
        "fhirVersion": "4.0.1",
        **({"instantiates": request.app.state.instantiates}
           if getattr(request.app.state, "instantiates", None) else {}),
        "format": FORMATS,
        "patchFormat": PATCH_FORMATS,
        "rest": [rest],
    }


async def metadata(request: Request) -> Response:
    media = check_accept(request)
    store = services_of(request).validator.store
    if store is not None:  # profiles stored by another process since the last look
        await store.refresh()
    return fhir_response(capability_statement(request), 200, request=request, media_type=media)
