"""Codes consent decisions compare: Codings, the v3 PurposeOfUse hierarchy, code systems.

A code is ``(system, code)``; a wanted code without a system matches any system.
PurposeOfUse is hierarchical (v3-ActReason: ``TREAT`` > ``ETREAT`` > ``BTG``), so a
provision for ``TREAT`` also covers a request for emergency treatment.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

__all__ = [
    "Code", "codings", "code_matches", "any_match", "purpose_codes", "purpose_covers",
    "ACT_REASON", "ACT_CODE", "CONSENT_SCOPE", "CONSENT_ACTION", "OBLIGATION_POLICY",
    "PARTICIPATION_TYPE", "RESOURCE_TYPES", "MASKING_OBLIGATIONS", "BREAK_GLASS_PURPOSES",
]

Code = tuple[str | None, str]

ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_ACTION = "http://terminology.hl7.org/CodeSystem/consentaction"
OBLIGATION_POLICY = "http://terminology.hl7.org/CodeSystem/v3-ObligationPolicy"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"
MASKING_OBLIGATIONS = frozenset({"MASK", "REDACT"})
BREAK_GLASS_PURPOSES = frozenset({"ETREAT", "BTG"})


def _coding(value: Any) -> Code | None:
    if isinstance(value, dict) and isinstance(value.get("code"), str):
        system = value.get("system")
        return (system if isinstance(system, str) else None, value["code"])
    return None


def codings(value: Any) -> frozenset[Code]:
    """The codes in a Coding, a CodeableConcept, or a list of either."""
    items = value if isinstance(value, list) else [value]
    found: set[Code] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        nested = item.get("coding")
        for coding in nested if isinstance(nested, list) else [item]:
            code = _coding(coding)
            if code is not None:
                found.add(code)
    return frozenset(found)


def code_matches(wanted: Code, have: Code) -> bool:
    return wanted[1] == have[1] and (wanted[0] is None or wanted[0] == have[0])


def any_match(wanted: Iterable[Code], have: Iterable[Code]) -> bool:
    have = list(have)
    return any(code_matches(w, h) for w in wanted for h in have)


@cache
def _purpose_parents() -> dict[str, str]:
    """Child -> parent within v3-ActReason's ``PurposeOfUse`` branch."""
    from terminology import shipped_terminology

    system = shipped_terminology().code_system(ACT_REASON)
    if system is None:  # pragma: no cover - the file ships with the project
        return {}
    parents: dict[str, str] = {}
    pending = ["PurposeOfUse"]
    while pending:
        parent = pending.pop()
        for child in system.children.get(parent, ()):
            parents.setdefault(child, parent)
            pending.append(child)
    return parents


def purpose_codes() -> frozenset[str]:
    """Every v3 PurposeOfUse code (``TREAT``, ``ETREAT``, ``BTG``, ``HPAYMT``, ...)."""
    return frozenset(_purpose_parents())


def purpose_covers(provision_purpose: str, requested: str) -> bool:
    """Whether a provision about ``provision_purpose`` covers a request made for
    ``requested``: the same code or one below it in the hierarchy."""
    parents = _purpose_parents()
    code: str | None = requested
    while code is not None:
        if code == provision_purpose:
            return True
        code = parents.get(code)
    return False
