"""Core invariants: a Python version for the frequent ones, FHIRPath for the rest.

Keyed by constraint key (https://hl7.org/fhir/R4/conformance-rules.html#constraints); the
Python versions say exactly what the R4 expression says (quoted in each docstring) and
exist because the validator runs on every write: a FHIRPath evaluation costs 100-400 µs.
Keys not in :data:`PYTHON_INVARIANTS` are evaluated with ``fhirpathpy``; ``txt-1``/``txt-2``
(``htmlChecks()``), ``ele-1`` (the empty-object rule of the structural check) and ``sqty-1``
(``SimpleQuantity.comparator`` has maximum 0) are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .fhirpath import compile_invariant, evaluate_invariant

__all__ = ["Invariant", "PYTHON_INVARIANTS", "core_invariant"]

Check = Callable[[dict[str, Any], Any], bool | None]  # (value, Findings) -> verdict
_SKIPPED = frozenset({"ele-1", "txt-1", "txt-2", "sqty-1"})


@dataclass(frozen=True)
class Invariant:
    """A constraint of an ElementDefinition and the test standing in for its FHIRPath."""

    key: str
    severity: str
    human: str
    holds: Check


def _ext_1(extension: dict[str, Any], _context: Any) -> bool:
    """``extension.exists() != value.exists()``"""
    has_value = any(key.startswith(("value", "_value")) for key in extension)
    return has_value != ("extension" in extension)


def _contained(value: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in value.get("contained", []) if isinstance(c, dict)]


def _dom_2(value: dict[str, Any], _context: Any) -> bool:
    """``contained.contained.empty()``"""
    return not any("contained" in c for c in _contained(value))


def _local_references(value: Any) -> set[str]:
    """Every string starting with ``#`` anywhere in ``value`` (references, canonicals,
    uris), as dom-3's ``descendants()`` collects them."""
    found: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and item[:1] == "#":
            found.add(item)
    return found


def _dom_3(value: dict[str, Any], _context: Any) -> bool:
    """``contained.where((('#'+id in (%resource.descendants().reference | ...)) or
    descendants().where(reference = '#').exists() ...).not()).empty()``"""
    contained = _contained(value)
    if not contained:
        return True
    everywhere = _local_references(value)
    return all(f"#{c.get('id')}" in everywhere or "#" in _local_references(c)
               for c in contained)


def _dom_4(value: dict[str, Any], _context: Any) -> bool:
    """``contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()``"""
    return not any(isinstance(c.get("meta"), dict) and ("versionId" in c["meta"]
                                                        or "lastUpdated" in c["meta"])
                   for c in _contained(value))


def _dom_5(value: dict[str, Any], _context: Any) -> bool:
    """``contained.meta.security.empty()``"""
    return not any(isinstance(c.get("meta"), dict) and "security" in c["meta"]
                   for c in _contained(value))


def _dom_6(value: dict[str, Any], _context: Any) -> bool:
    """``text.`div`.exists()``"""
    return isinstance(value.get("text"), dict) and "div" in value["text"]


def _precise_instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if "T" in text else None
    except ValueError:
        return None


def _per_1(period: dict[str, Any], _context: Any) -> bool | None:
    """``start.hasValue().not() or end.hasValue().not() or (start <= end)``; as in FHIRPath,
    values of different precision that agree as far as both go are not comparable, and
    the constraint then fails."""
    start, end = period.get("start"), period.get("end")
    if not isinstance(start, str) or not isinstance(end, str):
        return True
    first, last = _precise_instant(start), _precise_instant(end)
    if first is not None and last is not None:
        if (first.tzinfo is None) != (last.tzinfo is None):
            return None
        return first <= last
    size = min(len(start), len(end), 10)
    if start[:size] != end[:size]:
        return start[:size] < end[:size]
    return len(start) == len(end)


def _ref_1(reference: dict[str, Any], context: Any) -> bool:
    """``reference.startsWith('#').not() or (reference.substring(1) in
    %rootResource.contained.id)`` (a bare ``#`` points at the container); inside a Bundle
    the entry's resource holds the contained resources."""
    target = reference.get("reference")
    if not isinstance(target, str) or not target.startswith("#") or target == "#":
        return True
    container = context.container
    return isinstance(container, dict) and any(c.get("id") == target[1:]
                                               for c in _contained(container))


def _absent_or(first: str, second: str) -> Check:
    def check(value: dict[str, Any], _context: Any) -> bool:
        return first not in value or second in value
    check.__doc__ = f"``{first}.empty() or {second}.exists()``"
    return check


def _obs_6(observation: dict[str, Any], _context: Any) -> bool:
    """``dataAbsentReason.empty() or value.empty()``"""
    return "dataAbsentReason" not in observation or not any(
        key.startswith("value") and key[5:6].isupper() for key in observation)


def _obs_7(observation: dict[str, Any], _context: Any) -> bool:
    """``value.empty() or component.code.where(coding.intersect(%resource.code.coding)
    .exists()).empty()``"""
    if not any(key.startswith("value") and key[5:6].isupper() for key in observation):
        return True
    codings = observation.get("code", {}).get("coding", []) if isinstance(
        observation.get("code"), dict) else []
    for component in observation.get("component", []):
        code = component.get("code") if isinstance(component, dict) else None
        if isinstance(code, dict) and any(c in codings for c in code.get("coding", [])):
            return False
    return True


def _obs_3(reference_range: dict[str, Any], _context: Any) -> bool:
    """``low.exists() or high.exists() or text.exists()``"""
    return any(key in reference_range for key in ("low", "high", "text"))


def _quantity_value(quantity: Any) -> Decimal | None:
    if isinstance(quantity, dict) and isinstance(quantity.get("value"), int | float | Decimal):
        return Decimal(str(quantity["value"]))
    return None


def _rng_2(range_: dict[str, Any], _context: Any) -> bool | None:
    """``low.empty() or high.empty() or (low <= high)``"""
    low, high = range_.get("low"), range_.get("high")
    if not isinstance(low, dict) or not isinstance(high, dict):
        return True
    if low.get("code") != high.get("code") or low.get("system") != high.get("system"):
        return None
    low_value, high_value = _quantity_value(low), _quantity_value(high)
    if low_value is None or high_value is None:
        return True
    return low_value <= high_value


def _rat_1(ratio: dict[str, Any], _context: Any) -> bool:
    """``(numerator.empty() xor denominator.exists()) and (numerator.exists() or
    extension.exists())``"""
    numerator, denominator = "numerator" in ratio, "denominator" in ratio
    return (not numerator) != denominator and (numerator or "extension" in ratio)


def _bundle_type_rule(field: str, types: frozenset[str], inside_entries: bool) -> Check:
    def check(bundle: dict[str, Any], _context: Any) -> bool:
        if bundle.get("type") in types:
            return True
        if not inside_entries:
            return field not in bundle
        return not any(isinstance(e, dict) and field in e for e in bundle.get("entry", []))
    return check


def _bdl_7(bundle: dict[str, Any], _context: Any) -> bool:
    """``(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl &
    resource.meta.versionId).isDistinct()``"""
    if bundle.get("type") == "history":
        return True
    seen: set[str] = set()
    for entry in bundle.get("entry", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("fullUrl"), str):
            continue
        resource = entry.get("resource")
        meta = resource.get("meta") if isinstance(resource, dict) else None
        version = meta.get("versionId", "") if isinstance(meta, dict) else ""
        key = f"{entry['fullUrl']}{version}"
        if key in seen:
            return False
        seen.add(key)
    return True


def _bdl_8(entry: dict[str, Any], _context: Any) -> bool:
    """``fullUrl.contains('/_history/').not()``"""
    return not (isinstance(entry.get("fullUrl"), str) and "/_history/" in entry["fullUrl"])


def _bdl_5(entry: dict[str, Any], _context: Any) -> bool:
    """``resource.exists() or request.exists() or response.exists()``"""
    return any(key in entry for key in ("resource", "request", "response"))


def _has_coding(concept: Any, system: str, codes: frozenset[str]) -> bool:
    codings = concept.get("coding", []) if isinstance(concept, dict) else []
    return any(isinstance(c, dict) and c.get("system") == system and c.get("code") in codes
               for c in codings)


_ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
_CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_ERROR = frozenset({"entered-in-error"})


def _ait_1(allergy: dict[str, Any], _context: Any) -> bool:
    """``verificationStatus.coding.where(system = '...allergyintolerance-verification' and
    code = 'entered-in-error').exists() or clinicalStatus.exists()``"""
    return (_has_coding(allergy.get("verificationStatus"), _ALLERGY_VERIFICATION, _ERROR)
            or "clinicalStatus" in allergy)


def _ait_2(allergy: dict[str, Any], _context: Any) -> bool:
    """``verificationStatus.coding.where(... code = 'entered-in-error').empty() or
    clinicalStatus.empty()``"""
    return (not _has_coding(allergy.get("verificationStatus"), _ALLERGY_VERIFICATION, _ERROR)
            or "clinicalStatus" not in allergy)


def _con_4(condition: dict[str, Any], _context: Any) -> bool:
    """``abatement.empty() or clinicalStatus.coding.where(system='...condition-clinical' and
    (code='resolved' or code='remission' or code='inactive')).exists()``"""
    return not any(key.startswith("abatement") for key in condition) or _has_coding(
        condition.get("clinicalStatus"), _CONDITION_CLINICAL,
        frozenset({"resolved", "remission", "inactive"}))


def _con_5(condition: dict[str, Any], _context: Any) -> bool:
    """``verificationStatus.coding.where(system='...condition-ver-status' and
    code='entered-in-error').empty() or clinicalStatus.empty()``"""
    return (not _has_coding(condition.get("verificationStatus"), _CONDITION_VERIFICATION,
                            _ERROR) or "clinicalStatus" not in condition)


PYTHON_INVARIANTS: dict[str, Check] = {
    "ait-1": _ait_1,
    "ait-2": _ait_2,
    "con-4": _con_4,
    "con-5": _con_5,
    "org-1": lambda value, _context: "identifier" in value or "name" in value,
    "prr-1": _absent_or("orderDetail", "code"),
    "cpl-3": lambda value, _context: "detail" not in value or "reference" not in value,
    "ext-1": _ext_1,
    "dom-2": _dom_2,
    "dom-3": _dom_3,
    "dom-4": _dom_4,
    "dom-5": _dom_5,
    "dom-6": _dom_6,
    "per-1": _per_1,
    "ref-1": _ref_1,
    "qty-3": _absent_or("code", "system"),
    "cpt-2": _absent_or("value", "system"),
    "att-1": _absent_or("data", "contentType"),
    "obs-3": _obs_3,
    "obs-6": _obs_6,
    "obs-7": _obs_7,
    "rng-2": _rng_2,
    "rat-1": _rat_1,
    "bdl-1": _bundle_type_rule("total", frozenset({"searchset", "history"}), False),
    "bdl-2": _bundle_type_rule("search", frozenset({"searchset"}), True),
    "bdl-3": _bundle_type_rule("request", frozenset({"batch", "transaction", "history"}), True),
    "bdl-4": _bundle_type_rule("response", frozenset(
        {"batch-response", "transaction-response", "history"}), True),
    "bdl-5": _bdl_5,
    "bdl-7": _bdl_7,
    "bdl-8": _bdl_8,
}


def core_invariant(constraint: dict[str, Any], path: str) -> Invariant | None:
    """The test for one constraint of a core ElementDefinition at ``path``, or None when it
    is skipped or its expression cannot be parsed."""
    key = constraint.get("key", "")
    if key in _SKIPPED:
        return None
    severity = constraint.get("severity", "error")
    human = constraint.get("human", key)
    if key in PYTHON_INVARIANTS:
        return Invariant(key, severity, human, PYTHON_INVARIANTS[key])
    compiled = compile_invariant(constraint, path)
    if compiled is None:
        return None
    return Invariant(key, severity, human,
                     lambda value, context: evaluate_invariant(compiled, value, context.resource,
                                                               context.root))
