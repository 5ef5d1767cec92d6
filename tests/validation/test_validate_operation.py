"""``$validate`` with ``profile`` and ``mode``, and ``meta.profile`` claims on write
(https://hl7.org/fhir/R4/resource-operation-validate.html, docs/profiles.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FHIR_JSON = {"Content-Type": "application/fhir+json"}
MCH = Path(__file__).parents[1] / "data" / "profiles" / "mch"
PREGNANCY_STATUS = "https://mch-fhir.org/fhir/StructureDefinition/mch-pregnancy-status"


def _example(name: str) -> dict:
    return json.loads((MCH / name).read_text())


def _errors(outcome: dict) -> list[dict]:
    return [i for i in outcome["issue"] if i["severity"] == "error"]


@pytest.fixture
def strict_profiles(monkeypatch):
    """The strict policy: an unknown claimed profile is an error."""
    monkeypatch.setenv("FHIR_UNKNOWN_PROFILE", "error")


async def test_profile_parameter_checks_against_that_profile(client):
    resource = _example("pregnancy-status-valid.json")
    del resource["meta"]
    del resource["subject"]
    plain = await client.post("Observation/$validate", json=resource, headers=FHIR_JSON)
    assert _errors(plain.json()) == []
    profiled = await client.post(f"Observation/$validate?profile={PREGNANCY_STATUS}",
                                 json=resource, headers=FHIR_JSON)
    assert profiled.status_code == 200
    [error] = _errors(profiled.json())
    assert error["expression"] == ["Observation.subject"]
    assert "minimum required = 1" in error["diagnostics"]


async def test_profile_parameter_in_a_parameters_body(client):
    resource = _example("pregnancy-status-invalid-answer.json")
    del resource["meta"]
    parameters = {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": resource},
        {"name": "profile", "valueCanonical": PREGNANCY_STATUS}]}
    response = await client.post("Observation/$validate", json=parameters, headers=FHIR_JSON)
    [error] = _errors(response.json())
    assert error["expression"] == ["Observation.valueCodeableConcept"]


async def test_unknown_profile_parameter_is_a_bad_request(client):
    response = await client.post(
        "Observation/$validate?profile=http://example.org/StructureDefinition/none",
        json=_example("pregnancy-status-valid.json"), headers=FHIR_JSON)
    assert response.status_code == 400
    assert "Unknown profile" in response.json()["issue"][0]["diagnostics"]


async def test_must_support_is_reported_by_validate_only(client):
    resource = _example("pediatric-immunization-valid.json")
    del resource["protocolApplied"][0]["seriesDosesPositiveInt"]
    response = await client.post("Immunization/$validate", json=resource, headers=FHIR_JSON)
    notes = [i for i in response.json()["issue"] if i["severity"] == "information"]
    assert any(i["expression"] == ["Immunization.protocolApplied[0].seriesDoses"]
               and "mustSupport" in i["diagnostics"] for i in notes)
    stored = await client.post("Immunization", json=resource, headers=FHIR_JSON)
    assert stored.status_code == 201


async def test_mode_update_needs_an_id(client):
    resource = _example("pregnancy-status-valid.json")
    del resource["id"]
    response = await client.post("Observation/$validate?mode=update", json=resource,
                                 headers=FHIR_JSON)
    [error] = _errors(response.json())
    assert error["expression"] == ["id"] and "mode=update" in error["diagnostics"]
    created = await client.post("Observation/$validate?mode=create", json=resource,
                                headers=FHIR_JSON)
    assert _errors(created.json()) == []


async def test_mode_delete_checks_the_instance_exists(client):
    resource = _example("pregnancy-status-valid.json")
    await client.put(f"Observation/{resource['id']}", json=resource, headers=FHIR_JSON)
    ok = await client.get(f"Observation/{resource['id']}/$validate?mode=delete")
    assert ok.status_code == 200 and _errors(ok.json()) == []
    missing = await client.get("Observation/nope/$validate?mode=delete")
    assert missing.status_code == 404
    at_type = await client.post("Observation/$validate?mode=delete", json=resource,
                                headers=FHIR_JSON)
    assert at_type.status_code == 400


async def test_bad_mode_is_a_bad_request(client):
    response = await client.post("Observation/$validate?mode=patch",
                                 json=_example("pregnancy-status-valid.json"), headers=FHIR_JSON)
    assert response.status_code == 400


async def test_write_checks_the_claimed_profile(client, db):
    response = await client.post("Observation", headers=FHIR_JSON,
                                 json=_example("gestational-age-invalid-too-long.json"))
    assert response.status_code == 400
    assert any("mch-ga-1" in i["diagnostics"] for i in response.json()["issue"])
    assert await db["Observation"].count_documents({}) == 0
    good = await client.post("Observation", headers=FHIR_JSON,
                             json=_example("gestational-age-valid.json"))
    assert good.status_code == 201, good.text


async def test_unknown_claimed_profile_is_an_error_when_configured(strict_profiles, client,
                                                                   db):
    resource = _example("pregnancy-status-valid.json")
    resource["meta"]["profile"] = ["http://example.org/StructureDefinition/unknown"]
    response = await client.post("Observation", json=resource, headers=FHIR_JSON)
    assert response.status_code == 400
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["Observation.meta.profile"]
    assert "unknown" in issue["diagnostics"]
    assert await db["Observation"].count_documents({}) == 0


@pytest.fixture
def default_profile_policy(monkeypatch):
    monkeypatch.delenv("FHIR_UNKNOWN_PROFILE", raising=False)
    monkeypatch.delenv("FHIR_PROFILE_CONFIG", raising=False)


async def test_unknown_claimed_profile_is_a_warning_by_default(default_profile_policy, client):
    """As HAPI FHIR: accepted, and ``$validate`` says the profile was not checked."""
    resource = _example("pregnancy-status-valid.json")
    resource["meta"]["profile"] = ["http://example.org/StructureDefinition/unknown"]
    checked = await client.post("Observation/$validate", json=resource, headers=FHIR_JSON)
    [warning] = [i for i in checked.json()["issue"] if i["severity"] == "warning"
                 and i.get("expression") == ["Observation.meta.profile"]]
    assert "has not been checked because it is unknown" in warning["diagnostics"]
    assert _errors(checked.json()) == []
    response = await client.post("Observation", json=resource, headers=FHIR_JSON)
    assert response.status_code == 201, response.text


async def test_a_ucum_quantity_needs_a_valid_ucum_code(client):
    resource = _example("gestational-age-valid.json")
    del resource["meta"]
    resource["valueQuantity"]["code"] = "weeks"
    response = await client.post("Observation", json=resource, headers=FHIR_JSON)
    assert response.status_code == 400
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["Observation.valueQuantity.code"]
    assert "not a valid UCUM unit" in issue["diagnostics"]
