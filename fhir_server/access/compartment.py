"""Patient compartment membership of one resource (R4 CompartmentDefinition/patient).

A resource is in ``Patient/<id>``'s compartment when one of the compartment's search
parameters for its type references that patient (R4 compartmentdefinition.html); the
Patient itself is in its own compartment. Every such parameter in R4 is a plain path
(optionally ``.where(resolve() is Patient)``, which the reference's type settles here),
so membership is decided by walking those paths in the JSON.

:func:`referenced_patients` decides single resources (read, vread, history, writes).
References count as the search index reads them (``local_reference``: relative, versioned,
or absolute under this server's base), so searches, which filter on the index's
``search._compartments``, see the same compartment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from ..search.compartments import compartment_definitions
from ..search.definitions import search_parameter_resources
from ..search.parameters.reference import local_reference

__all__ = ["compartment_paths", "in_patient_compartment", "patient_compartment_types",
           "referenced_patients"]

_WHERE = re.compile(r"\.where\(resolve\(\) is [A-Za-z]+\)$")


@cache
def parameter_expressions() -> dict[tuple[str, str], str]:
    """``(resource type, parameter code) -> FHIRPath`` of the search parameters in force
    before any custom one."""
    found: dict[tuple[str, str], str] = {}
    for parameter in search_parameter_resources():
        for base in parameter.get("base", []):
            found[(base, parameter["code"])] = parameter.get("expression") or ""
    return found


@cache
def compartment_paths() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Per resource type in the Patient compartment, the element paths that link it."""
    expressions = parameter_expressions()
    paths: dict[str, tuple[tuple[str, ...], ...]] = {}
    members = {"Patient": (), **compartment_definitions()["Patient"]}
    for code, parameters in members.items():
        found: list[tuple[str, ...]] = []
        for param in parameters:
            for part in expressions.get((code, param), "").split("|"):
                part = _WHERE.sub("", part.strip())
                if part.startswith(code + "."):
                    found.append(tuple(part.split(".")[1:]))
        if found or code == "Patient":
            paths[code] = tuple(dict.fromkeys(found))
    return paths


def patient_compartment_types() -> frozenset[str]:
    return frozenset(compartment_paths())


def _walk(node: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, path)
        return
    if not path:
        yield node
        return
    if isinstance(node, dict) and path[0] in node:
        yield from _walk(node[path[0]], path[1:])


def _patient_id(reference: Any, base: str) -> str | None:
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return None
    kind, _, rid = local_reference(reference["reference"], base).partition("/")
    return rid if kind == "Patient" and rid and "/" not in rid else None


def referenced_patients(resource: dict[str, Any], base: str) -> set[str]:
    """The ids of the patients whose compartment holds this resource (``base``: the FHIR
    base absolute references to this server start with)."""
    resource_type = resource.get("resourceType")
    patients: set[str] = set()
    if resource_type == "Patient" and isinstance(resource.get("id"), str):
        patients.add(resource["id"])
    for path in compartment_paths().get(str(resource_type), ()):
        for reference in _walk(resource, path):
            patient = _patient_id(reference, base)
            if patient is not None:
                patients.add(patient)
    return patients


def in_patient_compartment(resource: dict[str, Any], patient: str, base: str) -> bool:
    return patient in referenced_patients(resource, base)

