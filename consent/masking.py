"""Permit with masking: a resource disclosed without its content.

The masked resource keeps its identity (``id``, ``meta``), its subject or patient, and its
required primitive elements (``status``, ``intent``, ...); every other element is
removed, and a required complex element (``Observation.code``, ...) is replaced by the
R4 ``data-absent-reason`` extension with code ``masked`` ("The information is not
available due to security, privacy or related reasons"), so the result stays a valid
resource. ``meta.security`` gains the v3 ObservationValue ``MASKED`` label.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from profiles.definitions import structure_definition

__all__ = ["mask", "MASKED_LABEL", "is_masked"]

MASKED_LABEL = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                "code": "MASKED", "display": "masked"}
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
_KEPT = ("resourceType", "id", "meta", "language", "subject", "patient")


@cache
def _required(resource_type: str) -> tuple[tuple[str, bool], ...]:
    """Top-level required elements as ``(name, primitive)``; choice names end in ``[x]``."""
    definition = structure_definition(resource_type)
    if definition is None:
        return ()
    found = []
    for element in definition["snapshot"]["element"]:
        parts = element["path"].split(".")
        if len(parts) == 2 and element.get("min", 0) >= 1:
            codes = [t.get("code", "") for t in element.get("type", [])]
            found.append((parts[1], all(c[:1].islower() for c in codes)))
    return tuple(found)


def _absent() -> dict[str, Any]:
    return {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "masked"}]}


def is_masked(resource: dict[str, Any]) -> bool:
    labels = (resource.get("meta") or {}).get("security") or []
    return any(isinstance(label, dict) and label.get("code") == MASKED_LABEL["code"]
               and label.get("system") == MASKED_LABEL["system"] for label in labels)


def mask(resource: dict[str, Any]) -> dict[str, Any]:
    """The masked copy of a resource (the input is left unchanged)."""
    masked = {key: resource[key] for key in _KEPT if key in resource}
    for name, primitive in _required(str(resource.get("resourceType"))):
        if name.endswith("[x]"):
            stem = name[:-3]
            present = [k for k in resource if k.startswith(stem) and k[len(stem):][:1].isupper()]
            for key in present:
                masked[key if not primitive else "_" + key] = _absent()
        elif name in resource:
            masked[name] = resource[name] if primitive else _absent()
    meta = dict(masked.get("meta") or {})
    labels = [label for label in meta.get("security") or [] if label != MASKED_LABEL]
    meta["security"] = [*labels, MASKED_LABEL]
    masked["meta"] = meta
    return masked
