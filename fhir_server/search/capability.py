"""``CapabilityStatement.rest.resource.searchParam``: every supported parameter of a type.

https://hl7.org/fhir/R4/capabilitystatement-definitions.html#CapabilityStatement.rest.resource.searchParam
"""

from __future__ import annotations

from typing import Any

from .definitions import Registry

__all__ = ["capability_entries"]


def capability_entries(registry: Registry, resource_type: str) -> list[dict[str, Any]]:
    entries = []
    for code, parameter in sorted(registry.parameters(resource_type).items()):
        if not parameter.supported:
            continue
        entry: dict[str, Any] = {"name": code, "definition": parameter.url,
                                 "type": parameter.type}
        if parameter.description:
            entry["documentation"] = parameter.description
        entries.append(entry)
    return entries
