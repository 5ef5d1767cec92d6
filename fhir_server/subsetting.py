"""``_summary`` and ``_elements``: returning part of a resource, marked SUBSETTED.

Summary elements are those the resource's StructureDefinition marks ``isSummary`` (the
spec's search page, "Summary"); mandatory elements are always kept.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from profiles.definitions import structure_definition

from .errors import InvalidRequest

__all__ = ["apply_summary", "apply_elements", "SUMMARY_MODES"]

SUMMARY_MODES = {"true", "false", "text", "data", "count"}
_SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "subsetted",
}
_ALWAYS = {"resourceType", "id", "meta"}


@cache
def _top_level(resource_type: str) -> tuple[frozenset[str], frozenset[str]]:
    """(summary element names, mandatory element names) of a resource type."""
    definition = structure_definition(resource_type)
    summary: set[str] = set()
    mandatory: set[str] = set()
    if definition is None:
        return frozenset(), frozenset()
    for element in definition["snapshot"]["element"]:
        parts = element["path"].split(".")
        if len(parts) != 2:
            continue
        name = parts[1].removesuffix("[x]")
        if element.get("isSummary"):
            summary.add(name)
        if element.get("min", 0) > 0:
            mandatory.add(name)
    return frozenset(summary), frozenset(mandatory)


def _matches(key: str, names: frozenset[str] | set[str]) -> bool:
    base = key.lstrip("_")
    if base in names:
        return True
    # choice elements: valueQuantity belongs to value[x]
    return any(base.startswith(n) and base[len(n):][:1].isupper() for n in names)


def _mark(resource: dict[str, Any]) -> dict[str, Any]:
    meta = dict(resource.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), _SUBSETTED]
    return {**resource, "meta": meta}


def apply_summary(resource: dict[str, Any], mode: str) -> dict[str, Any]:
    if mode not in SUMMARY_MODES:
        raise InvalidRequest(f"Invalid _summary '{mode}': use one of {sorted(SUMMARY_MODES)}")
    if mode == "false":
        return resource
    resource_type = resource["resourceType"]
    summary, mandatory = _top_level(resource_type)
    if mode == "true":
        kept = {k: v for k, v in resource.items()
                if k in _ALWAYS or _matches(k, summary) or _matches(k, mandatory)}
    elif mode == "text":
        kept = {k: v for k, v in resource.items()
                if k in _ALWAYS or k == "text" or _matches(k, mandatory)}
    elif mode == "data":
        kept = {k: v for k, v in resource.items() if k != "text"}
    else:
        kept = resource
    return _mark(kept)


def _element_names(resource_type: str, elements: str) -> set[str]:
    """Top-level names in ``_elements`` (``name``, ``Patient.name``; ``name.family`` keeps
    all of ``name``)."""
    names = set()
    for element in elements.split(","):
        parts = element.strip().split(".")
        if parts[0] == resource_type:
            parts = parts[1:]
        if parts and parts[0]:
            names.add(parts[0])
    return names


def apply_elements(resource: dict[str, Any], elements: str) -> dict[str, Any]:
    names = _element_names(resource["resourceType"], elements)
    if not names:
        return resource
    _, mandatory = _top_level(resource["resourceType"])
    kept = {k: v for k, v in resource.items()
            if k in _ALWAYS or _matches(k, names) or _matches(k, mandatory)}
    return _mark(kept)


def subset(resource: dict[str, Any], params: Any) -> dict[str, Any]:
    """Apply ``_summary`` / ``_elements`` from query parameters, if present."""
    summary = params.get("_summary")
    if summary:
        return apply_summary(resource, summary)
    elements = params.get("_elements")
    if elements:
        return apply_elements(resource, elements)
    return resource
