"""Profiles a deployment requires per resource type (FHIR_REQUIRED_PROFILES,
FHIR_PROFILE_CONFIG; profiles/policy.py)."""

from __future__ import annotations

import json

import pytest

from profiles.policy import PolicyError, ProfilePolicy, parse_required

FHIR_JSON = {"Content-Type": "application/fhir+json"}
IMMUNIZATION = "https://mch-fhir.org/fhir/StructureDefinition/mch-pediatric-immunization"


def test_parse_required():
    assert parse_required(f"Immunization={IMMUNIZATION}; Patient=a,b") == {
        "Immunization": (IMMUNIZATION,), "Patient": ("a", "b")}
    with pytest.raises(PolicyError):
        parse_required("Immunization")


def test_config_file(tmp_path, monkeypatch):
    config = tmp_path / "profiles.json"
    config.write_text(json.dumps({"required": {"Immunization": [IMMUNIZATION]},
                                  "unknownProfile": "warning"}))
    monkeypatch.setenv("FHIR_PROFILE_CONFIG", str(config))
    monkeypatch.delenv("FHIR_UNKNOWN_PROFILE", raising=False)
    policy = ProfilePolicy.from_environment()
    assert policy.required_for("Immunization") == [IMMUNIZATION]
    assert policy.unknown_profile == "warning"
    monkeypatch.setenv("FHIR_UNKNOWN_PROFILE", "loud")
    with pytest.raises(PolicyError):
        ProfilePolicy.from_environment()


def test_unknown_profiles_are_warnings_unless_configured(monkeypatch):
    monkeypatch.delenv("FHIR_PROFILE_CONFIG", raising=False)
    monkeypatch.delenv("FHIR_UNKNOWN_PROFILE", raising=False)
    assert ProfilePolicy.from_environment().unknown_profile == "warning"
    assert ProfilePolicy().unknown_profile == "warning"
    monkeypatch.setenv("FHIR_UNKNOWN_PROFILE", "error")
    assert ProfilePolicy.from_environment().unknown_profile == "error"


@pytest.fixture
def required_immunization_profile(monkeypatch):
    monkeypatch.setenv("FHIR_REQUIRED_PROFILES", f"Immunization={IMMUNIZATION}")


async def test_required_profile_applies_without_a_claim(required_immunization_profile, client):
    snomed_only = {"resourceType": "Immunization", "status": "completed",
                   "vaccineCode": {"coding": [{"system": "http://snomed.info/sct",
                                               "code": "871875004"}]},
                   "patient": {"reference": "Patient/child-1"},
                   "occurrenceDateTime": "2026-05-14",
                   "protocolApplied": [{"doseNumberPositiveInt": 1}]}
    response = await client.post("Immunization", json=snomed_only, headers=FHIR_JSON)
    assert response.status_code == 400
    assert any("vaccineCode.coding:cvx" in i["diagnostics"] for i in response.json()["issue"])
    snomed_only["vaccineCode"]["coding"].append({"system": "http://hl7.org/fhir/sid/cvx",
                                                 "code": "208"})
    response = await client.post("Immunization", json=snomed_only, headers=FHIR_JSON)
    assert response.status_code == 201, response.text
