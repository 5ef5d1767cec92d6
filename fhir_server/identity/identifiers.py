"""Comparing Patient identifiers (https://hl7.org/fhir/R4/patient-definitions.html#Patient.identifier).

Values are compared without separators and case (``91-2345`` = ``912345``). Levels:

``same-system-value``            an identifier with the same system and value on both
``conflicting``                  that, and also a system where the values differ
``same-value``                   the same value under different systems or without one
                                 (a medical record number sent without its assigning
                                 authority); values shorter than 6 characters do not count
``different-value-same-system``  a system both have, with different values
``missing``                      nothing comparable
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .health_id import normalise_health_id

__all__ = ["IDENTIFIER_LEVELS", "identifier_pairs", "compare_identifier_sets",
           "compare_identifiers"]

IDENTIFIER_LEVELS = ("same-system-value", "conflicting", "same-value",
                     "different-value-same-system", "missing")
_MIN_VALUE_LENGTH = 6


def identifier_pairs(identifiers: Iterable[Any]) -> set[tuple[str | None, str]]:
    """(system or None, normalised value) of each identifier that has a value."""
    pairs = set()
    for identifier in identifiers:
        if isinstance(identifier, Mapping) and isinstance(identifier.get("value"), str):
            value = normalise_health_id(identifier["value"])
            system = identifier.get("system")
            if value:
                pairs.add((system if isinstance(system, str) and system else None, value))
    return pairs


def compare_identifier_sets(a: set[tuple[str | None, str]],
                            b: set[tuple[str | None, str]]) -> str:
    """How two sets of (system, value) agree: one of :data:`IDENTIFIER_LEVELS`."""
    if not a or not b:
        return "missing"
    systems = {s for s, _ in a if s} & {s for s, _ in b if s}
    agreeing = {s for s in systems if {v for x, v in a if x == s} & {v for x, v in b if x == s}}
    if agreeing:
        return "conflicting" if systems - agreeing else "same-system-value"
    values = {v for _, v in a if len(v) >= _MIN_VALUE_LENGTH}
    if values & {v for _, v in b}:
        return "same-value"
    return "different-value-same-system" if systems else "missing"


def compare_identifiers(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """How the two Patients' identifiers agree: one of :data:`IDENTIFIER_LEVELS`."""
    return compare_identifier_sets(identifier_pairs(a.get("identifier") or []),
                                   identifier_pairs(b.get("identifier") or []))
