"""Validation through the REST API: invalid writes are refused with every problem listed and
nothing stored; ``$validate`` at type and instance level
(https://hl7.org/fhir/R4/resource-operation-validate.html)."""

from __future__ import annotations

FHIR_JSON = {"Content-Type": "application/fhir+json"}

INVALID_PATIENT = {
    "resourceType": "Patient",
    "name": [{"family": "Okafor", "given": "Ada"}],
    "gender": "F",
    "birthDate": "1990-02-30",
    "$where": "this.a == 1",
}
EXPECTED_LOCATIONS = {"Patient.name[0].given", "Patient.gender", "Patient.birthDate",
                      "Patient.$where"}


def _locations(outcome):
    """Where the errors are ($validate also reports warnings, such as dom-6)."""
    return {location for issue in outcome["issue"] if issue["severity"] == "error"
            for location in issue.get("expression", [])}


NARRATIVE = {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Ada Okafor</div>'}


def _assert_every_problem_listed(response):
    assert response.status_code == 400, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert _locations(outcome) == EXPECTED_LOCATIONS
    assert all(issue["severity"] == "error" for issue in outcome["issue"])
    by_location = {issue["expression"][0]: issue for issue in outcome["issue"]}
    assert by_location["Patient.gender"]["code"] == "code-invalid"
    assert "'F'" in by_location["Patient.gender"]["diagnostics"]
    assert "no such day" in by_location["Patient.birthDate"]["diagnostics"]


async def _stored_patients(client, db):
    bundle = (await client.get("Patient")).json()
    stored = await db["Patient"].count_documents({})
    history = await db["history"].count_documents({"type": "Patient"})
    return bundle.get("total", len(bundle.get("entry", []))), stored, history


async def test_create_of_an_invalid_patient_is_refused_and_nothing_stored(client, db):
    response = await client.post("Patient", json=INVALID_PATIENT, headers=FHIR_JSON)
    _assert_every_problem_listed(response)
    assert await _stored_patients(client, db) == (0, 0, 0)


async def test_update_as_create_of_an_invalid_patient_stores_nothing(client, db):
    response = await client.put("Patient/p1", json={**INVALID_PATIENT, "id": "p1"},
                                headers=FHIR_JSON)
    _assert_every_problem_listed(response)
    assert (await client.get("Patient/p1")).status_code == 404
    assert await _stored_patients(client, db) == (0, 0, 0)


async def test_invalid_update_keeps_the_current_version(client):
    valid = {"resourceType": "Patient", "id": "p2", "gender": "female"}
    assert (await client.put("Patient/p2", json=valid, headers=FHIR_JSON)).status_code == 201
    response = await client.put("Patient/p2", json={**INVALID_PATIENT, "id": "p2"},
                                headers=FHIR_JSON)
    _assert_every_problem_listed(response)
    current = (await client.get("Patient/p2")).json()
    assert current["meta"]["versionId"] == "1" and current["gender"] == "female"


async def test_patch_that_makes_a_resource_invalid_is_refused(client):
    valid = {"resourceType": "Patient", "id": "p3", "gender": "female"}
    await client.put("Patient/p3", json=valid, headers=FHIR_JSON)
    patch = [{"op": "replace", "path": "/gender", "value": "woman"}]
    response = await client.patch("Patient/p3", json=patch,
                                  headers={"Content-Type": "application/json-patch+json"})
    assert response.status_code == 400, response.text
    assert _locations(response.json()) == {"Patient.gender"}
    assert (await client.get("Patient/p3")).json()["gender"] == "female"


async def test_valid_synthea_like_patient_is_created(client):
    response = await client.post("Patient", json={
        "resourceType": "Patient", "gender": "female", "birthDate": "1990-04-12",
        "name": [{"use": "official", "family": "Okafor", "given": ["Ada"]}],
        "extension": [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
                       "valueCode": "F"}]}, headers=FHIR_JSON)
    assert response.status_code == 201, response.text


async def test_validate_a_valid_resource_at_type_level(client, db):
    response = await client.post("Patient/$validate", headers=FHIR_JSON,
                                 json={"resourceType": "Patient", "text": NARRATIVE,
                                       "gender": "female"})
    assert response.status_code == 200, response.text
    assert response.json() == {"resourceType": "OperationOutcome", "issue": [
        {"severity": "information", "code": "informational", "diagnostics": "All OK"}]}
    assert await db["Patient"].count_documents({}) == 0


async def test_validate_an_invalid_resource_lists_every_problem_with_200(client, db):
    response = await client.post("Patient/$validate", json=INVALID_PATIENT, headers=FHIR_JSON)
    assert response.status_code == 200, response.text
    assert _locations(response.json()) == EXPECTED_LOCATIONS
    assert await db["Patient"].count_documents({}) == 0


async def test_validate_with_a_parameters_body(client):
    parameters = {"resourceType": "Parameters",
                  "parameter": [{"name": "resource", "resource": INVALID_PATIENT}]}
    response = await client.post("Patient/$validate", json=parameters, headers=FHIR_JSON)
    assert response.status_code == 200, response.text
    assert _locations(response.json()) == EXPECTED_LOCATIONS


async def test_validate_a_parameters_resource_itself(client):
    parameters = {"resourceType": "Parameters",
                  "parameter": [{"name": "count", "valueInteger": "3"}]}
    response = await client.post("Parameters/$validate", json=parameters, headers=FHIR_JSON)
    assert response.status_code == 200, response.text
    assert _locations(response.json()) == {"Parameters.parameter[0].valueInteger"}


async def test_validate_reports_a_type_mismatch_with_the_url(client):
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    response = await client.post("Patient/$validate", json=observation, headers=FHIR_JSON)
    assert response.status_code == 200
    [issue] = [i for i in response.json()["issue"] if i["severity"] == "error"]
    assert issue["expression"] == ["resourceType"]
    assert "does not match the URL type 'Patient'" in issue["diagnostics"]


async def test_validate_a_stored_resource_at_instance_level(client):
    await client.put("Patient/p4", json={"resourceType": "Patient", "id": "p4",
                                         "text": NARRATIVE, "gender": "male"},
                     headers=FHIR_JSON)
    for response in (await client.get("Patient/p4/$validate"),
                     await client.post("Patient/p4/$validate")):
        assert response.status_code == 200, response.text
        assert response.json()["issue"][0]["diagnostics"] == "All OK"


async def test_validate_a_proposed_update_at_instance_level(client):
    await client.put("Patient/p5", json={"resourceType": "Patient", "id": "p5"},
                     headers=FHIR_JSON)
    proposed = {"resourceType": "Patient", "id": "other", "gender": "mal"}
    response = await client.post("Patient/p5/$validate", json=proposed, headers=FHIR_JSON)
    assert response.status_code == 200
    assert _locations(response.json()) == {"id", "Patient.gender"}


async def test_validate_an_unknown_instance_is_not_found(client):
    response = await client.get("Patient/nobody/$validate")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_validate_without_a_resource_at_type_level_is_a_bad_request(client):
    response = await client.post("Patient/$validate", headers=FHIR_JSON,
                                 json={"resourceType": "Parameters", "parameter": [
                                     {"name": "mode", "valueCode": "create"}]})
    assert response.status_code == 400
    assert "needs a resource" in response.json()["issue"][0]["diagnostics"]


async def test_validate_is_in_the_capability_statement(client):
    statement = (await client.get("metadata")).json()
    names = {operation["name"] for rest in statement["rest"]
             for operation in rest.get("operation", [])}
    names |= {operation["name"] for rest in statement["rest"]
              for resource in rest.get("resource", []) for operation in
              resource.get("operation", [])}
    assert "validate" in names


async def test_validate_a_deleted_instance_is_gone(client):
    await client.put("Patient/p6", json={"resourceType": "Patient", "id": "p6"},
                     headers=FHIR_JSON)
    assert (await client.delete("Patient/p6")).status_code in (200, 204)
    response = await client.get("Patient/p6/$validate")
    assert response.status_code == 410
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_a_write_reports_its_warnings_when_asked(client):
    """An unknown claimed profile is accepted with a warning (HAPI's default), which the
    write reports with Prefer: return=OperationOutcome."""
    patient = {"resourceType": "Patient",
               "meta": {"profile": ["https://example.org/StructureDefinition/unknown"]}}
    response = await client.post("Patient", json=patient, headers={
        "Content-Type": "application/fhir+json", "Prefer": "return=OperationOutcome"})
    assert response.status_code == 201, response.text
    warnings = [i for i in response.json()["issue"] if i["severity"] == "warning"]
    assert any("https://example.org/StructureDefinition/unknown" in i["diagnostics"]
               for i in warnings), warnings
