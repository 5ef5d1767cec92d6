"""Scenario data for the pregnancy summary tests: the Synthea prenatal bundles
(tests/data/synthea/bundles/prenatal/) and the WHO SMART ANC scenarios
(tests/data/mch/who-smart-anc/, see its SOURCES.md), plus builders for the Observations and
Encounters a scenario adds to them (each test says what it adds)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parents[1] / "data"
SYNTHEA = DATA / "synthea" / "bundles" / "prenatal"
WHO = DATA / "mch" / "who-smart-anc"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"


@cache
def _bundle(name: str) -> tuple[dict[str, Any], ...]:
    """The resources of a Synthea bundle, with ``urn:uuid:`` references rewritten to
    ``Type/id`` as the server stores them."""
    [path] = SYNTHEA.glob(f"{name}_*.json")
    text = path.read_text()
    for entry in json.loads(text)["entry"]:
        resource = entry["resource"]
        text = text.replace(
            f'"{entry["fullUrl"]}"', f'"{resource["resourceType"]}/{resource["id"]}"'
        )
    return tuple(entry["resource"] for entry in json.loads(text)["entry"])


def synthea(name: str, *, leave_out: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """A copy of the resources of the Synthea patient ``name`` (``Laurie_McCullough``),
    without those whose id starts with one of ``leave_out``."""
    return [
        copy.deepcopy(r)
        for r in _bundle(name)
        if not any(r["id"].startswith(prefix) for prefix in leave_out)
    ]


def resource(resources: list[dict[str, Any]], id_prefix: str) -> dict[str, Any]:
    [found] = [r for r in resources if r["id"].startswith(id_prefix)]
    return found


def reference(resources: list[dict[str, Any]], id_prefix: str) -> str:
    found = resource(resources, id_prefix)
    return f"{found['resourceType']}/{found['id']}"


def who(folder: str) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted((WHO / folder).glob("*.json"))]


def _observation(
    id_: str, code: str, effective: str, patient: str, encounter: str | None = None
) -> dict[str, Any]:
    observation = {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": patient},
        "effectiveDateTime": effective,
    }
    if encounter is not None:
        observation["encounter"] = {"reference": encounter}
    return observation


def last_menstrual_period(
    id_: str, effective: str, value: str, patient: str, encounter: str | None = None
) -> dict[str, Any]:
    """LOINC 8665-2, recorded on ``effective``, the period starting on ``value``."""
    return {**_observation(id_, "8665-2", effective, patient, encounter), "valueDateTime": value}


def gestational_age(id_: str, code: str, effective: str, days: int, patient: str) -> dict[str, Any]:
    """A gestational age Observation (11888-5 ultrasound, 18185-9, ...) in days."""
    return {
        **_observation(id_, code, effective, patient),
        "valueQuantity": {"value": days, "unit": "d", "system": UCUM, "code": "d"},
    }


def due_date(id_: str, code: str, effective: str, value: str, patient: str) -> dict[str, Any]:
    """An estimated delivery date Observation (11781-2 ultrasound, 11779-6 LMP, ...)."""
    return {**_observation(id_, code, effective, patient), "valueDateTime": value}


def visit(template: dict[str, Any], id_: str, start: str) -> dict[str, Any]:
    """A copy of a Synthea prenatal Encounter on another day."""
    copied = copy.deepcopy(template)
    copied["id"] = id_
    copied["period"] = {"start": f"{start}T10:00:00+00:00", "end": f"{start}T10:30:00+00:00"}
    return copied


def blood_pressure(
    template: dict[str, Any], id_: str, effective: str, systolic: float, diastolic: float
) -> dict[str, Any]:
    """A copy of a Synthea blood pressure panel with other values on another day."""
    copied = copy.deepcopy(template)
    copied.update(id=id_, effectiveDateTime=effective, issued=effective)
    copied.pop("encounter", None)
    for component in copied["component"]:
        loinc = component["code"]["coding"][0]["code"]
        component["valueQuantity"]["value"] = systolic if loinc == "8480-6" else diastolic
    return copied


def haemoglobin(
    template: dict[str, Any], id_: str, effective: str, value: float, unit: str
) -> dict[str, Any]:
    """A copy of a Synthea haemoglobin (718-7) with another value and unit."""
    copied = copy.deepcopy(template)
    copied.update(id=id_, effectiveDateTime=effective, issued=effective)
    copied.pop("encounter", None)
    copied["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    return copied


def pregnancy_outcome(
    id_: str, effective: str, snomed: str, display: str, patient: str
) -> dict[str, Any]:
    """An outcome Observation as profiled by mch-pregnancy-outcome (LOINC 63893-2)."""
    return {
        **_observation(id_, "63893-2", effective, patient),
        "meta": {
            "profile": ["https://mch-fhir.org/fhir/StructureDefinition/mch-pregnancy-outcome"]
        },
        "valueCodeableConcept": {
            "coding": [{"system": SNOMED, "code": snomed, "display": display}]
        },
    }
