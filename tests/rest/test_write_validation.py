"""Validation on write, the HTTP side: an invalid resource is answered 400 with an
OperationOutcome listing every problem with its FHIRPath location, and nothing is stored
(FHIR R4 http page 3.1.0.4 create / 3.1.0.5 update: "400 Bad Request - resource could not
be parsed or failed basic FHIR validation rules")."""

from __future__ import annotations

import pytest

from .helpers import FHIR_JSON, assert_outcome, patient

INVALID = {
    "resourceType": "Patient",
    "id": "bad",
    "foo": 1,
    "$where": "sleep(1000)",
    "birthDate": "1990-13-45",
    "gender": "femme",
    "active": "yes",
    "name": [{"family": ["x"]}],
}
PROBLEMS = {"Patient.foo", "Patient.$where", "Patient.birthDate", "Patient.gender",
            "Patient.active", "Patient.name[0].family"}


async def _stored(db) -> tuple[int, int]:
    return (await db["Patient"].count_documents({}),
            await db["history"].count_documents({}))


def _locations(outcome: dict) -> set[str]:
    return {expression for issue in outcome["issue"] if issue["severity"] == "error"
            for expression in issue.get("expression", [])}


@pytest.mark.parametrize("method", ["POST", "PUT", "conditional PUT"])
async def test_every_problem_is_listed_and_nothing_is_stored(client, db, method):
    if method == "POST":
        r = await client.post("Patient", json=INVALID)
    elif method == "PUT":
        r = await client.put("Patient/bad", json=INVALID)
    else:
        r = await client.put("Patient?_id=bad", json=INVALID)
    outcome = assert_outcome(r, 400)
    assert PROBLEMS <= _locations(outcome), outcome
    assert all(i.get("diagnostics") for i in outcome["issue"])
    assert await _stored(db) == (0, 0)


async def test_unknown_elements_are_rejected_not_dropped(client, db):
    r = await client.post("Patient", json=patient(nickname="Ada"))
    outcome = assert_outcome(r, 400, "nickname")
    assert "Patient.nickname" in _locations(outcome)
    nested = patient(name=[{"family": "X", "middle": "Y"}])
    assert "Patient.name[0].middle" in _locations(
        assert_outcome(await client.post("Patient", json=nested), 400))
    assert await _stored(db) == (0, 0)


async def test_an_invalid_update_keeps_the_current_version(client, db):
    await client.put("Patient/p", json=patient(id="p"))
    bad = await client.put("Patient/p", json={**patient(id="p"), "gender": "femme"})
    assert_outcome(bad, 400, "femme")
    current = (await client.get("Patient/p")).json()
    assert current["meta"]["versionId"] == "1" and current["gender"] == "female"
    assert await _stored(db) == (1, 1)


async def test_a_patch_that_leaves_an_invalid_resource_is_rejected(client, db):
    await client.put("Patient/p", json=patient(id="p"))
    json_patch = await client.patch(
        "Patient/p", json=[{"op": "add", "path": "/colour", "value": "blue"}],
        headers={"Content-Type": "application/json-patch+json"})
    assert "Patient.colour" in _locations(assert_outcome(json_patch, 400))
    fhirpath_patch = await client.patch("Patient/p", headers=FHIR_JSON, json={
        "resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
            {"name": "type", "valueCode": "replace"},
            {"name": "path", "valueString": "Patient.birthDate"},
            {"name": "value", "valueDate": "yesterday"}]}]})
    assert "Patient.birthDate" in _locations(assert_outcome(fhirpath_patch, 400))
    assert (await client.get("Patient/p")).json()["meta"]["versionId"] == "1"
    assert await _stored(db) == (1, 1)


async def test_a_valid_resource_with_extensions_and_contained_is_stored(client):
    body = patient(
        extension=[{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                    "valueAddress": {"city": "Nairobi"}}],
        contained=[{"resourceType": "Organization", "id": "clinic", "name": "ANC clinic"}],
        managingOrganization={"reference": "#clinic"},
    )
    r = await client.post("Patient", json=body)
    assert r.status_code == 201, r.text
