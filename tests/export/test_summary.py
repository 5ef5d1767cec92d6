"""``Patient/[id]/$summary``: an IPS document for a maternal record, validated with the
project's validator against the IPS 2.0.0 profiles (tests/data/export/SOURCE.md), and
``fhir-server export --patient`` writing the same document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from profiles.policy import ProfilePolicy
from profiles.registry import DefinitionRegistry
from profiles.validator import Validator
from terminology import LocalTerminology, shipped_terminology

IPS_DIR = Path(__file__).parents[1] / "data" / "export" / "ips-2.0.0"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
IPS = "http://hl7.org/fhir/uv/ips/StructureDefinition"


def _ips_validator() -> Validator:
    resources = [json.loads(p.read_text()) for p in IPS_DIR.glob("*-*.json")]
    return Validator(
        LocalTerminology([r for r in resources if r["resourceType"] == "ValueSet"],
                         base=shipped_terminology()),
        DefinitionRegistry([r for r in resources if r["resourceType"] == "StructureDefinition"]),
        ProfilePolicy())


def _concept(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}]}


MUM = [
    {"resourceType": "Patient", "id": "mum", "gender": "female", "birthDate": "1994-06-02",
     "name": [{"family": "Achieng", "given": ["Mary"]}]},
    {"resourceType": "Patient", "id": "dad", "gender": "male", "birthDate": "1990-01-01",
     "name": [{"family": "Otieno"}]},
    {"resourceType": "Organization", "id": "lab", "name": "County Laboratory"},
    {"resourceType": "Condition", "id": "anaemia", "subject": {"reference": "Patient/mum"},
     "code": _concept(SNOMED, "271737000", "Anemia"),
     "clinicalStatus": _concept("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                "active", "Active")},
    {"resourceType": "AllergyIntolerance", "id": "penicillin",
     "patient": {"reference": "Patient/mum"},
     "code": _concept(SNOMED, "764146007", "Penicillin"),
     "clinicalStatus": _concept(
         "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active",
         "Active")},
    {"resourceType": "MedicationRequest", "id": "iron", "status": "active",
     "intent": "order", "subject": {"reference": "Patient/mum"},
     "medicationCodeableConcept": _concept(SNOMED, "387134008", "Ferrous sulfate"),
     "authoredOn": "2026-03-01"},
    {"resourceType": "Immunization", "id": "tetanus", "status": "completed",
     "patient": {"reference": "Patient/mum"}, "occurrenceDateTime": "2026-02-10",
     "vaccineCode": _concept("http://hl7.org/fhir/sid/cvx", "115", "Tdap")},
    {"resourceType": "Observation", "id": "hb", "status": "final",
     "category": [_concept("http://terminology.hl7.org/CodeSystem/observation-category",
                           "laboratory", "Laboratory")],
     "code": _concept(LOINC, "718-7", "Hemoglobin [Mass/volume] in Blood"),
     "subject": {"reference": "Patient/mum"}, "effectiveDateTime": "2026-03-01",
     "performer": [{"reference": "Organization/lab"}],
     "valueQuantity": {"value": 9.8, "unit": "g/dL", "system": "http://unitsofmeasure.org",
                       "code": "g/dL"}},
    {"resourceType": "Observation", "id": "edd", "status": "final",
     "code": _concept(LOINC, "11778-8", "Delivery date Estimated"),
     "subject": {"reference": "Patient/mum"}, "effectiveDateTime": "2026-03-01",
     "valueDateTime": "2026-09-20"},
    {"resourceType": "Observation", "id": "pregnant", "status": "final",
     "code": _concept(LOINC, "82810-3", "Pregnancy status"),
     "subject": {"reference": "Patient/mum"}, "effectiveDateTime": "2026-03-01",
     "valueCodeableConcept": _concept(LOINC, "LA15173-0", "Pregnant"),
     "hasMember": [{"reference": "Observation/edd"}]},
    {"resourceType": "Condition", "id": "dad-asthma", "subject": {"reference": "Patient/dad"},
     "code": _concept(SNOMED, "195967001", "Asthma")},
]


@pytest.fixture
async def record(client):
    for resource in MUM:
        response = await client.put(f"{resource['resourceType']}/{resource['id']}",
                                    json=resource)
        assert response.status_code == 201, response.text


def _sections(bundle: dict) -> dict[str, dict]:
    composition = bundle["entry"][0]["resource"]
    return {s["code"]["coding"][0]["code"]: s for s in composition["section"]}


async def test_summary_is_an_ips_document(client, record):
    response = await client.get("Patient/mum/$summary")
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["type"] == "document" and bundle["identifier"]["value"]
    composition = bundle["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["type"]["coding"][0]["code"] == "60591-5"
    assert composition["subject"]["reference"] == "Patient/mum"
    sections = _sections(bundle)
    expected = {"11450-4": ["Condition/anaemia"], "48765-2": ["AllergyIntolerance/penicillin"],
                "10160-0": ["MedicationRequest/iron"], "11369-6": ["Immunization/tetanus"],
                "30954-2": ["Observation/hb"],
                "10162-6": ["Observation/edd", "Observation/pregnant"]}
    assert {code: sorted(e["reference"] for e in s["entry"])
            for code, s in sections.items()} == expected
    resources = {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]
                 for e in bundle["entry"][1:]}
    assert "Condition/dad-asthma" not in resources and "Patient/dad" not in resources
    for section in sections.values():
        for entry in section["entry"]:
            assert entry["reference"] in resources


async def test_summary_validates_against_the_ips_profiles(client, record):
    bundle = (await client.get("Patient/mum/$summary")).json()
    validator = _ips_validator()
    declared = {}
    for entry in bundle["entry"][1:]:
        resource = entry["resource"]
        profiles = resource.get("meta", {}).get("profile", [])
        declared[resource["id"]] = [p.rsplit("/", 1)[-1] for p in profiles]
        errors = [i for i in validator.validate(resource) if i.severity == "error"]
        assert errors == [], (resource["id"], errors)
    assert declared == {
        "mum": ["Patient-uv-ips"], "anaemia": ["Condition-uv-ips"],
        "penicillin": ["AllergyIntolerance-uv-ips"], "iron": ["MedicationRequest-uv-ips"],
        "tetanus": ["Immunization-uv-ips"],
        "hb": ["Observation-results-laboratory-pathology-uv-ips"],
        "edd": ["Observation-pregnancy-edd-uv-ips"],
        "pregnant": ["Observation-pregnancy-status-uv-ips"]}
    base = Validator()

    def without_meta(resource: dict) -> dict:  # Composition/Bundle IPS profiles not shipped
        return {k: v for k, v in resource.items() if k != "meta"}

    document = without_meta(bundle)
    document["entry"] = [{**e, "resource": without_meta(e["resource"])}
                         for e in bundle["entry"]]
    errors = [i for i in base.validate(document) if i.severity == "error"]
    assert errors == []


async def test_empty_required_sections_say_so_and_men_have_no_pregnancy_section(
        client, record):
    bundle = (await client.get("Patient/dad/$summary")).json()
    sections = _sections(bundle)
    assert set(sections) == {"11450-4", "48765-2", "10160-0"}
    assert [e["reference"] for e in sections["11450-4"]["entry"]] == ["Condition/dad-asthma"]
    allergies = sections["48765-2"]
    assert "entry" not in allergies
    assert allergies["emptyReason"]["coding"][0]["code"] == "unavailable"
    assert "No information" in allergies["text"]["div"]
    missing = await client.get("Patient/nobody/$summary")
    assert missing.status_code == 404
    assert (await client.get("Patient/mum/$summary?foo=1")).status_code == 400


async def test_export_command_writes_the_summary(app, client, record, settings, tmp_path):
    out = tmp_path / "mum-ips.json"
    env = {**os.environ, "MONGODB_URI": settings.mongodb_uri,
           "FHIR_DATABASE": settings.database}
    done = subprocess.run([sys.executable, "-m", "fhir_server.cli", "export", "--patient",
                           "mum", "--out", str(out)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads(out.read_text())
    served = (await client.get("Patient/mum/$summary")).json()
    assert written["type"] == "document"
    assert _sections(written) == _sections(served)
    unknown = subprocess.run([sys.executable, "-m", "fhir_server.cli", "export", "--patient",
                              "nobody", "--out", str(tmp_path / "x.json")], env=env,
                             capture_output=True, text=True, timeout=300)
    assert unknown.returncode != 0 and "nobody" in unknown.stderr
    assert not (tmp_path / "x.json").exists()
