"""The International Patient Summary of one patient: a FHIR ``document`` Bundle whose
Composition (LOINC 60591-5) has the IPS sections (IPS 2.0 "Composition (IPS)": problems,
allergies, medications, immunizations, results, and history of pregnancies for women).

Entries are the patient's compartment resources the caller may see (the same access
restriction as searches). Each entry declares the IPS profile of its kind when the
elements that profile requires are present (name and birthDate of the Patient, code and
subject of a Condition, ...); the required sections without data carry an
``emptyReason`` and a narrative saying so. Used by ``Patient/[id]/$summary`` and
``fhir-server export --patient``.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo import DESCENDING

from .. import clock
from ..access import AccessPolicy, Hints
from ..mch.pregnancy import RESOURCE_TYPES as PREGNANCY_RESOURCE_TYPES
from ..mch.pregnancy import PregnancySummary, pregnancy_history_codes, pregnancy_summary
from ..search.compartments import compartment_filter
from ..storage import Queries

__all__ = ["patient_summary", "IPS", "SECTIONS"]

IPS = "http://hl7.org/fhir/uv/ips/StructureDefinition"
LOINC = "http://loinc.org"
MAX_ENTRIES = 200
PREGNANCY_STATUS = {"82810-3"}
PREGNANCY_EDD = {"11778-8", "11779-6", "11780-4"}
PREGNANCY_OUTCOME = {"11636-8", "11637-6", "11638-4", "11639-2", "11640-0", "11612-9",
                     "11613-7", "11614-5"}
# The IPS codes above (the entries its History of Pregnancy section slices), and every
# pregnancy record the pregnancy summary reads: LMP, EDD and gestational age by any
# method, the MCH pregnancy outcome (63893-2) and delivery date.
PREGNANCY_HISTORY = (PREGNANCY_STATUS | PREGNANCY_EDD | PREGNANCY_OUTCOME
                     | pregnancy_history_codes())
_EMPTY_REASON = {"coding": [{
    "system": "http://terminology.hl7.org/CodeSystem/list-empty-reason", "code": "unavailable",
    "display": "Unavailable"}]}


def _codes(resource: dict[str, Any], element: str = "code") -> set[str]:
    concept = resource.get(element) or {}
    return {c.get("code") for c in concept.get("coding", []) if c.get("system") == LOINC}


def _is_lab(resource: dict[str, Any]) -> bool:
    return any(c.get("code") == "laboratory" for cat in resource.get("category", [])
               for c in cat.get("coding", []))


def _pregnancy(resource: dict[str, Any]) -> bool:
    return bool(_codes(resource) & PREGNANCY_HISTORY)


@dataclass(frozen=True)
class Section:
    title: str
    code: str
    display: str
    types: tuple[str, ...]
    required: bool
    keep: Callable[[dict[str, Any]], bool] = lambda resource: True


SECTIONS = [
    Section("Problem List", "11450-4", "Problem list - Reported", ("Condition",), True),
    Section("Allergies and Intolerances", "48765-2", "Allergies and adverse reactions Document",
            ("AllergyIntolerance",), True),
    Section("Medication Summary", "10160-0", "History of Medication use Narrative",
            ("MedicationRequest", "MedicationStatement"), True),
    Section("Immunizations", "11369-6", "History of Immunization Narrative",
            ("Immunization",), False),
    Section("Results", "30954-2", "Relevant diagnostic tests/laboratory data Narrative",
            ("Observation",), False, lambda r: _is_lab(r) and not _pregnancy(r)),
    Section("History of Pregnancy", "10162-6", "History of pregnancies Narrative",
            ("Observation",), False, _pregnancy),
]


def _has(resource: dict[str, Any], *names: str) -> bool:
    return all(any(k == n or (n.endswith("[x]") and k.startswith(n[:-3]))
                   for k in resource) for n in names)


def _profile(resource: dict[str, Any]) -> str | None:
    """The IPS profile the resource meets the required elements of, if any."""
    kind = resource["resourceType"]
    if kind == "Patient" and _has(resource, "name", "birthDate"):
        return f"{IPS}/Patient-uv-ips"
    if kind == "Condition" and _has(resource, "code", "subject"):
        return f"{IPS}/Condition-uv-ips"
    if kind == "AllergyIntolerance" and _has(resource, "code", "patient"):
        return f"{IPS}/AllergyIntolerance-uv-ips"
    if kind == "MedicationRequest" and _has(resource, "subject", "medication[x]"):
        return f"{IPS}/MedicationRequest-uv-ips"
    if kind == "Immunization" and _has(resource, "patient", "vaccineCode", "occurrence[x]"):
        return f"{IPS}/Immunization-uv-ips"
    if kind != "Observation" or not _has(resource, "subject", "effective[x]"):
        return None
    codes = _codes(resource)
    if codes & PREGNANCY_STATUS:
        return f"{IPS}/Observation-pregnancy-status-uv-ips"
    if codes & PREGNANCY_EDD:
        return f"{IPS}/Observation-pregnancy-edd-uv-ips"
    if codes & PREGNANCY_OUTCOME:
        return f"{IPS}/Observation-pregnancy-outcome-uv-ips"
    if _is_lab(resource) and _has(resource, "performer"):
        return f"{IPS}/Observation-results-laboratory-pathology-uv-ips"
    return None


def _declared(resource: dict[str, Any]) -> dict[str, Any]:
    profile = _profile(resource)
    if profile is None:
        return resource
    meta = dict(resource.get("meta") or {})
    meta["profile"] = list(dict.fromkeys([*meta.get("profile", []), profile]))
    return {**resource, "meta": meta}


def _concept_text(concept: Any) -> str | None:
    if not isinstance(concept, dict):
        return None
    coding = next(iter(concept.get("coding", [])), {})
    text = concept.get("text") or coding.get("display") or coding.get("code")
    return str(text) if text else None


def _value_text(observation: dict[str, Any]) -> str | None:
    """An Observation's value as a reader wants it (``Livebirth``, ``9.8 g/dL``)."""
    if (concept := _concept_text(observation.get("valueCodeableConcept"))) is not None:
        return concept
    quantity = observation.get("valueQuantity")
    if isinstance(quantity, dict) and quantity.get("value") is not None:
        unit = quantity.get("unit") or quantity.get("code") or ""
        return f"{quantity['value']} {unit}".strip()
    for element in ("valueDateTime", "valueString", "valueInteger", "valueBoolean"):
        if observation.get(element) is not None:
            return str(observation[element])
    return None


def _label(resource: dict[str, Any]) -> str:
    for element in ("code", "vaccineCode", "medicationCodeableConcept"):
        if (text := _concept_text(resource.get(element))) is not None:
            value = _value_text(resource) if resource["resourceType"] == "Observation" else None
            return f"{text}: {value}" if value else text
    return f"{resource['resourceType']}/{resource['id']}"


def _narrative(title: str, resources: list[dict[str, Any]]) -> dict[str, str]:
    if not resources:
        body = f"<p>No information about {html.escape(title.lower())} is available.</p>"
    else:
        body = "<ul>" + "".join(f"<li>{html.escape(_label(r))}</li>" for r in resources) + "</ul>"
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


async def _resources(queries: Queries, policy: AccessPolicy, patient_id: str,
                     resource_type: str) -> list[dict[str, Any]]:
    place = compartment_filter(resource_type, "Patient", patient_id)
    if place is None:
        return []
    found = await queries.find(policy, resource_type, place,
                               sort=[("lastUpdated", DESCENDING)], limit=MAX_ENTRIES)
    return [f.resource for f in found]


def _section(section: Section, resources: list[dict[str, Any]], base: str
             ) -> dict[str, Any]:
    result: dict[str, Any] = {
        "title": section.title,
        "code": {"coding": [{"system": LOINC, "code": section.code,
                             "display": section.display}]},
        "text": _narrative(section.title, resources),
    }
    if resources:
        result["entry"] = [{"reference": f"{r['resourceType']}/{r['id']}"} for r in resources]
    else:
        result["emptyReason"] = _EMPTY_REASON
    return result


async def patient_summary(queries: Queries, policy: AccessPolicy, base: str,
                          patient: dict[str, Any]) -> dict[str, Any]:
    """The IPS document Bundle of ``patient`` (as the caller may see it), with what of the
    patient's record ``policy`` shows."""
    policy = policy.narrowed(Hints(frozenset({patient["id"]}), content=False))
    female = patient.get("gender") == "female"
    sections: list[dict[str, Any]] = []
    entries: dict[str, dict[str, Any]] = {}
    cache: dict[str, list[dict[str, Any]]] = {}
    for section in SECTIONS:
        if section.code == "10162-6" and not female:
            continue
        found = []
        for resource_type in section.types:
            if resource_type not in cache:
                cache[resource_type] = await _resources(queries, policy, patient["id"],
                                                        resource_type)
            found += [r for r in cache[resource_type] if section.keep(r)]
        if found or section.required:
            sections.append(_section(section, found, base))
        for resource in found:
            entries[f"{resource['resourceType']}/{resource['id']}"] = resource
    if female:
        await _gestational_age(queries, policy, patient, cache, sections, entries)
    now = clock.to_instant(clock.now())
    composition = {
        "resourceType": "Composition", "id": str(uuid.uuid4()),
        "meta": {"profile": [f"{IPS}/Composition-uv-ips"]},
        "text": _narrative("the patient summary", [patient]),
        "status": "final",
        "type": {"coding": [{"system": LOINC, "code": "60591-5",
                             "display": "Patient summary Document"}]},
        "subject": {"reference": f"Patient/{patient['id']}"},
        "date": now, "author": [{"display": "MCH FHIR Server"}],
        "title": "International Patient Summary", "confidentiality": "N",
        "section": sections,
    }
    documented = [(f"urn:uuid:{composition['id']}", composition),
                  (f"{base}/Patient/{patient['id']}", _declared(patient))]
    documented += [(key if key.startswith("urn:uuid:") else f"{base}/{key}", _declared(r))
                   for key, r in entries.items()]
    return {
        "resourceType": "Bundle", "id": str(uuid.uuid4()),
        "meta": {"profile": [f"{IPS}/Bundle-uv-ips"]},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
        "type": "document", "timestamp": now,
        "entry": [{"fullUrl": url, "resource": r} for url, r in documented],
    }


def _weeks_and_days(days: int) -> str:
    """``39 weeks 1 day``: a gestational age as obstetrics states it."""
    weeks, rest = divmod(days, 7)
    return (f"{weeks} week{'' if weeks == 1 else 's'} "
            f"{rest} day{'' if rest == 1 else 's'}")


def _dating_line(found: PregnancySummary, days: int) -> str:
    """The narrative line: the gestational age today of an ongoing pregnancy, or the
    end, its outcome and the gestational age at the end of one that has ended."""
    if found.pregnancy.end is None:
        due = f" (estimated due date {found.edd.isoformat()})" if found.edd else ""
        return f"<p>Gestational age today: {_weeks_and_days(days)}{due}.</p>"
    outcomes = list(dict.fromkeys(
        str(o.coding.get("display") or o.coding.get("code")) for o in found.outcomes
        if o.coding.get("display") or o.coding.get("code")))
    what = f" ({html.escape('; '.join(outcomes))})" if outcomes else ""
    return (f"<p>Pregnancy ended on {found.pregnancy.end.isoformat()}{what} at a "
            f"gestational age of {_weeks_and_days(days)}.</p>")


async def _gestational_age(queries: Queries, policy: AccessPolicy, patient: dict[str, Any],
                           cache: dict[str, list[dict[str, Any]]],
                           sections: list[dict[str, Any]],
                           entries: dict[str, dict[str, Any]]) -> None:
    """The current pregnancy's gestational age (``$pregnancy-summary``'s dating) in the
    History of Pregnancy section: a line of its narrative and a generated Observation
    (LOINC 18185-9), when the patient's record dates a pregnancy. For an ongoing pregnancy
    the age today; for one that ended (at most six weeks ago, WHO's postnatal period) the
    age on the day it ended, with its outcome."""
    for resource_type in PREGNANCY_RESOURCE_TYPES:
        if resource_type not in cache:
            cache[resource_type] = await _resources(queries, policy, patient["id"],
                                                    resource_type)
    today = clock.now().date()
    found = pregnancy_summary([r for t in PREGNANCY_RESOURCE_TYPES for r in cache[t]], today)
    if found is None or found.gestational_age is None:
        return
    days = found.gestational_age
    observation = {
        "resourceType": "Observation", "id": str(uuid.uuid4()), "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "18185-9",
                             "display": "Gestational age"}]},
        "subject": {"reference": f"Patient/{patient['id']}"},
        "effectiveDateTime": (found.pregnancy.end or today).isoformat(),
        "valueQuantity": {"value": days, "unit": "d", "system": "http://unitsofmeasure.org",
                          "code": "d"}}
    entries[f"urn:uuid:{observation['id']}"] = observation
    line = _dating_line(found, days)
    section = next((s for s in sections if s["code"]["coding"][0]["code"] == "10162-6"), None)
    if section is None:
        history = next(s for s in SECTIONS if s.code == "10162-6")
        section = _section(history, [], "")
        section.pop("emptyReason")
        section["text"] = {"status": "generated",
                           "div": '<div xmlns="http://www.w3.org/1999/xhtml"></div>'}
        sections.append(section)
    section["text"]["div"] = section["text"]["div"].replace("</div>", line + "</div>", 1)
    section.setdefault("entry", []).append({"reference": f"urn:uuid:{observation['id']}"})
