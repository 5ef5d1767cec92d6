"""Patient compartment membership of one resource (R4 CompartmentDefinition/patient).

A resource is in ``Patient/<id>``'s compartment when one of the compartment's search
parameters for its type references that patient (R4 compartmentdefinition.html); the
Patient itself is in its own compartment. Every such parameter in R4 is a plain path
(optionally ``.where(resolve() is Patient)``, which the reference's type settles here),
so membership is decided by walking those paths in the JSON.

:func:`referenced_patients` decides single resources (read, vread, history, writes);
:func:`compartment_clause` is the same rule as a MongoDB filter on the stored JSON, for
searches.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["compartment_paths", "in_patient_compartment", "patient_compartment_types",
           "referenced_patients", "reference_match", "compartment_clause"]

_R4 = Path(__file__).resolve().parent.parent / "search" / "r4"
_WHERE = re.compile(r"\.where\(resolve\(\) is [A-Za-z]+\)$")


@cache
def _expressions() -> dict[tuple[str, str], str]:
    with gzip.open(_R4 / "search-parameters.json.gz") as stream:
        bundle = json.load(stream)
    found: dict[tuple[str, str], str] = {}
    for entry in bundle["entry"]:
        parameter = entry["resource"]
        for base in parameter.get("base", []):
            found[(base, parameter["code"])] = parameter.get("expression") or ""
    return found


@cache
def compartment_paths() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Per resource type in the Patient compartment, the element paths that link it."""
    definition = json.loads((_R4 / "compartmentdefinition-patient.json").read_text())
    expressions = _expressions()
    paths: dict[str, tuple[tuple[str, ...], ...]] = {}
    for resource in definition["resource"]:
        code = resource["code"]
        found: list[tuple[str, ...]] = []
        for param in resource.get("param", []):
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


def _patient_id(reference: Any) -> str | None:
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return None
    parts = reference["reference"].split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == "Patient":
        return parts[-1]
    return None


def referenced_patients(resource: dict[str, Any]) -> set[str]:
    """The ids of the patients whose compartment holds this resource."""
    resource_type = resource.get("resourceType")
    patients: set[str] = set()
    if resource_type == "Patient" and isinstance(resource.get("id"), str):
        patients.add(resource["id"])
    for path in compartment_paths().get(str(resource_type), ()):
        for reference in _walk(resource, path):
            patient = _patient_id(reference)
            if patient is not None:
                patients.add(patient)
    return patients


def in_patient_compartment(resource: dict[str, Any], patient: str) -> bool:
    return patient in referenced_patients(resource)


def reference_match(patient: str) -> dict[str, Any]:
    """A MongoDB condition on a ``reference`` string that names ``Patient/<patient>``
    (relative, absolute or versioned), as :func:`referenced_patients` reads it."""
    pattern = re.compile(rf"(^|/)Patient/{re.escape(patient)}(/_history(/.*)?)?$")
    return {"$in": [f"Patient/{patient}", pattern]}


def compartment_clause(resource_type: str, patient: str) -> dict[str, Any] | None:
    """The filter for one type's documents in ``Patient/<patient>``'s compartment, on the
    stored resource JSON; None for a type outside the compartment."""
    paths = compartment_paths().get(resource_type)
    if paths is None:
        return None
    match = reference_match(patient)
    clauses: list[dict[str, Any]] = [{"_id": patient}] if resource_type == "Patient" else []
    clauses += [{f"resource.{'.'.join(path)}.reference": match} for path in paths]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}
