"""Clinically relevant facts of FHIR resources, to compare two converters' outputs.

Each fact is a hashable tuple (resource type, what, value). Dates and times become UTC
instants (or dates) so ``11:26+02:15`` and ``14:41+05:30`` compare equal; decimals compare by
value; references compare by the kind and the facts of what they point at, since the two
converters choose different ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

__all__ = ["facts", "moment"]


def moment(text: str | None) -> str | None:
    """A FHIR date/dateTime/instant as a comparable string (UTC for times)."""
    if not text:
        return None
    if "T" not in text:
        return text
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        return parsed.strftime("%Y-%m-%dT%H:%M:%S")
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _codes(concept: dict[str, Any] | None) -> frozenset[str]:
    if not concept:
        return frozenset()
    return frozenset(c["code"] for c in concept.get("coding", []) if c.get("code"))


def _number(value: Any) -> str | None:
    return None if value is None else str(Decimal(str(value)).normalize())


def _value(resource: dict[str, Any]) -> Any:
    if "valueQuantity" in resource:
        quantity = resource["valueQuantity"]
        return ("quantity", _number(quantity.get("value")))
    if "valueCodeableConcept" in resource:
        return ("coded", _codes(resource["valueCodeableConcept"]))
    if "valueString" in resource:
        return ("string", " ".join(resource["valueString"].split()))
    if "valueDateTime" in resource:
        return ("dateTime", moment(resource["valueDateTime"]))
    for kind in ("valueRange", "valueRatio", "valueTime", "valueBoolean", "valueInteger"):
        if kind in resource:
            return (kind, repr(resource[kind]))
    return None


def _patient(r: dict[str, Any]) -> Iterable[tuple]:
    for ident in r.get("identifier", []):
        yield ("identifier", ident.get("value"))
    for name in r.get("name", []):
        yield ("name", name.get("family"), tuple(name.get("given", [])[:1]))
    yield ("birthDate", r.get("birthDate"))
    yield ("gender", r.get("gender"))
    for address in r.get("address", []):
        yield ("address", (address.get("city") or "").strip(), address.get("postalCode"))
    if r.get("maritalStatus"):
        yield ("maritalStatus", _codes(r["maritalStatus"]) & {"M", "S", "D", "W", "U", "UNK"})
    if "deceasedBoolean" in r or "deceasedDateTime" in r:
        yield ("deceased", r.get("deceasedBoolean"), moment(r.get("deceasedDateTime")))


def _encounter(r: dict[str, Any]) -> Iterable[tuple]:
    yield ("class", r.get("class", {}).get("code"))
    yield ("status", r.get("status"))
    yield ("start", moment(r.get("period", {}).get("start")))
    for ident in r.get("identifier", []):
        yield ("identifier", ident.get("value"))


def _observation(r: dict[str, Any]) -> Iterable[tuple]:
    code = _codes(r.get("code"))
    quantity = r.get("valueQuantity", {})
    unit = (quantity.get("code") or quantity.get("unit") or "").lower() or None
    value = _value(r)
    if value is not None:
        yield ("value", code, value, unit)
    yield ("status", code, r.get("status"))
    for interpretation in r.get("interpretation", []):
        yield ("interpretation", code, _codes(interpretation) & _V3_INTERPRETATION)
    for reference_range in r.get("referenceRange", []):
        low = _number(reference_range.get("low", {}).get("value"))
        high = _number(reference_range.get("high", {}).get("value"))
        if low or high:
            yield ("range", code, low, high)


_V3_INTERPRETATION = frozenset({"N", "A", "AA", "H", "HH", "L", "LL", "<", ">", "POS", "NEG",
                                "I", "R", "S", "IND", "DET", "ND"})


def _report(r: dict[str, Any]) -> Iterable[tuple]:
    yield ("code", _codes(r.get("code")))
    yield ("status", r.get("status"))
    for ident in r.get("identifier", []):
        yield ("identifier", ident.get("value"))


def _immunization(r: dict[str, Any]) -> Iterable[tuple]:
    yield ("vaccine", _codes(r.get("vaccineCode")))
    yield ("status", r.get("status"))
    yield ("occurrence", moment(r.get("occurrenceDateTime")))
    yield ("lot", r.get("lotNumber"))
    yield ("expiration", r.get("expirationDate"))
    yield ("dose", _number(r.get("doseQuantity", {}).get("value")))
    yield ("route", _codes(r.get("route")))
    yield ("site", _codes(r.get("site")))


def _medication_request(r: dict[str, Any]) -> Iterable[tuple]:
    yield ("medication", _codes(r.get("medicationCodeableConcept")))
    yield ("status", r.get("status"))
    yield ("intent", r.get("intent"))


def _coded(element: str):
    def extract(r: dict[str, Any]) -> Iterable[tuple]:
        yield (element, _codes(r.get(element)))
    return extract


_EXTRACTORS = {
    "Patient": _patient, "Encounter": _encounter, "Observation": _observation,
    "DiagnosticReport": _report, "Immunization": _immunization,
    "MedicationRequest": _medication_request, "Condition": _coded("code"),
    "AllergyIntolerance": _coded("code"), "ServiceRequest": _coded("code"),
}


def _merges(resources: list[dict[str, Any]]) -> Iterable[tuple]:
    """(kept identifier, retired identifier) of merges: a Linkage (source / historical
    items) or a Patient whose ``link`` replaces another Patient."""
    patients = {f"Patient/{r.get('id')}": r for r in resources
                if r.get("resourceType") == "Patient"}
    for resource in resources:
        if resource.get("resourceType") == "Linkage":
            items = {i["type"]: i["resource"].get("identifier", {}).get("value")
                     for i in resource.get("item", [])}
            yield ("Merge", "replaces", items.get("source"), items.get("historical"))
        for link in resource.get("link", []) if resource.get("resourceType") == "Patient" \
                else []:
            other = patients.get(link.get("other", {}).get("reference"), {})
            if link.get("type") == "replaces":
                for kept in resource.get("identifier", []):
                    for retired in other.get("identifier", []):
                        yield ("Merge", "replaces", kept.get("value"), retired.get("value"))


def _blank(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value in (None, (), frozenset())


def facts(resources: Iterable[dict[str, Any]], types: Iterable[str] | None = None
          ) -> set[tuple]:
    """The facts of ``resources`` of the compared types (all known types by default);
    a fact whose every value is empty (the converter had nothing to say) is left out."""
    wanted = set(types) if types is not None else set(_EXTRACTORS)
    resources = list(resources)
    found: set[tuple] = set(_merges(resources)) if "Patient" in wanted else set()
    for resource in resources:
        kind = resource.get("resourceType")
        if kind in wanted and kind in _EXTRACTORS:
            found.update((kind, *fact) for fact in _EXTRACTORS[kind](resource)
                         if not all(_blank(v) for v in fact[1:]))
    return found
