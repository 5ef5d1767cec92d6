"""Compartments (R4 CompartmentDefinition/patient) for search and ``$everything``.

A resource's compartment memberships (``Patient/123`` when one of the parameters the
definition lists for its type references that patient, and a Patient in its own
compartment) are stored with its index as ``search._compartments``, so a compartment is
one indexed equality. https://hl7.org/fhir/R4/compartmentdefinition.html
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson

__all__ = ["compartment_definitions", "compartment_filter", "compartment_memberships",
           "COMPARTMENTS_FIELD", "in_compartment"]

_R4 = Path(__file__).with_name("r4")
COMPARTMENTS_FIELD = "search._compartments"


# This server's additions to the R4 definitions: a Binary whose securityContext names a
# patient is that patient's data (R4 binary.html: the Binary has the access of its
# securityContext), so Consents and patient-limited tokens govern it.
SERVER_MEMBERS = {"Patient": {"Binary": ("securitycontext",)}}


@cache
def compartment_definitions() -> dict[str, dict[str, tuple[str, ...]]]:
    """Compartment type -> resource type -> the parameters that place it there (the R4
    CompartmentDefinitions and :data:`SERVER_MEMBERS`)."""
    result: dict[str, dict[str, tuple[str, ...]]] = {}
    for path in sorted(_R4.glob("compartmentdefinition-*.json")):
        definition = orjson.loads(path.read_bytes())
        members = {r["code"]: tuple(r["param"]) for r in definition.get("resource", [])
                   if r.get("param")}
        result[definition["code"]] = {**members, **SERVER_MEMBERS.get(definition["code"], {})}
    return result


def in_compartment(resource_type: str, compartment_type: str) -> bool:
    members = compartment_definitions().get(compartment_type, {})
    return resource_type == compartment_type or resource_type in members


def compartment_memberships(
    resource_type: str, resource_id: str | None, index: dict[str, Any]
) -> list[str]:
    """``["Patient/123", ...]``: the compartments a resource with this index is in."""
    found: list[str] = []
    for compartment_type, members in compartment_definitions().items():
        if resource_type == compartment_type and resource_id:
            found.append(f"{compartment_type}/{resource_id}")
        for code in members.get(resource_type, ()):
            for entry in index.get(code, ()):
                reference = entry.get("r") if isinstance(entry, dict) else None
                if isinstance(reference, str) and reference.startswith(compartment_type + "/"):
                    found.append(reference)
    return list(dict.fromkeys(found))


def compartment_filter(
    resource_type: str, compartment_type: str, compartment_id: str
) -> dict[str, Any] | None:
    """MongoDB filter for the ``resource_type`` documents in one compartment, or None when
    that type is never in such a compartment (for ``$everything`` and compartment search).
    """
    if not in_compartment(resource_type, compartment_type):
        return None
    return {COMPARTMENTS_FIELD: f"{compartment_type}/{compartment_id}"}
