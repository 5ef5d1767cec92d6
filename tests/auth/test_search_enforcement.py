"""Searches by restricted tokens: the patient compartment and the token's per-type scopes
narrow results, totals, ``_include``/``_revinclude`` and chains inside the query."""

from __future__ import annotations

import pytest

from .conftest import bearer, observation, patient, put
from .test_enforcement import issue


@pytest.fixture
async def data(repository):
    for pid, family in (("p1", "Alpha"), ("p2", "Beta")):
        await put(repository, patient(pid, family))
    await put(repository, {"resourceType": "Practitioner", "id": "dr"})
    await put(repository, observation("o1", "p1", performer="Practitioner/dr"))
    await put(repository, observation("lab1", "p1", category="laboratory"))
    await put(repository, observation("o2", "p2", performer="Patient/p2"))
    await put(repository, observation("lab2", "p2", category="laboratory"))
    await put(repository, {"resourceType": "Condition", "id": "c2",
                           "subject": {"reference": "Patient/p2"}})


def ids(bundle: dict) -> set[tuple[str, str]]:
    return {(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]}


async def search(http, token: str, path: str) -> dict:
    response = await http.get(f"/fhir/{path}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def test_search_is_limited_to_the_compartment(http, auth, data):
    token = await issue(auth, "patient/*.rs", patient_id="p1")
    bundle = await search(http, token, "Observation?_total=accurate")
    assert ids(bundle) == {("Observation", "o1"), ("Observation", "lab1")}
    assert bundle["total"] == 2
    other = await search(http, token, "Observation?subject=Patient/p2&_total=accurate")
    assert not other.get("entry")
    assert other["total"] == 0
    compartment = await search(http, token, "Patient/p2/Observation")
    assert not compartment.get("entry")
    patients = await search(http, token, "Patient")
    assert ids(patients) == {("Patient", "p1")}


async def test_includes_and_revincludes_stay_inside(http, auth, data):
    token = await issue(auth, "patient/*.rs", patient_id="p1")
    included = await search(http, token,
                            "Observation?_include=Observation:subject"
                            "&_include=Observation:performer")
    assert ids(included) == {("Observation", "o1"), ("Observation", "lab1"),
                             ("Patient", "p1"), ("Practitioner", "dr")}
    reverse = await search(http, token, "Patient?_revinclude=Observation:subject"
                                        "&_revinclude=Condition:subject")
    assert ids(reverse) == {("Patient", "p1"), ("Observation", "o1"),
                            ("Observation", "lab1")}
    narrow = await issue(auth, "patient/Observation.rs", patient_id="p1")
    no_patient = await search(http, narrow, "Observation?_include=Observation:subject")
    assert ids(no_patient) == {("Observation", "o1"), ("Observation", "lab1")}


async def test_chains_do_not_reach_other_patients(http, auth, data):
    token = await issue(auth, "patient/*.rs", patient_id="p1")
    chained = await search(http, token, "Observation?subject:Patient.family=Beta")
    assert not chained.get("entry")
    own = await search(http, token, "Observation?subject:Patient.family=Alpha")
    assert ids(own) == {("Observation", "o1"), ("Observation", "lab1")}
    has = await search(http, token, "Patient?_has:Observation:subject:category=laboratory")
    assert ids(has) == {("Patient", "p1")}


async def test_query_restricted_scope(http, auth, data):
    token = await issue(auth, "patient/Observation.rs?category=laboratory", patient_id="p1")
    bundle = await search(http, token, "Observation")
    assert ids(bundle) == {("Observation", "lab1")}
    assert (await http.get("/fhir/Observation/lab1", headers=bearer(token))).status_code == 200
    assert (await http.get("/fhir/Observation/o1", headers=bearer(token))).status_code == 404
    practitioner = await issue(auth, "user/Observation.rs?category=laboratory",
                               fhir_user="Practitioner/dr")
    both = await search(http, practitioner, "Observation")
    assert ids(both) == {("Observation", "lab1"), ("Observation", "lab2")}


async def test_system_search_and_unscoped_types(http, auth, data):
    token = await issue(auth, "patient/*.rs", patient_id="p1")
    everything = await search(http, token, "?_type=Observation,Condition,Patient")
    assert ids(everything) == {("Patient", "p1"), ("Observation", "o1"),
                               ("Observation", "lab1")}
    narrow = await issue(auth, "patient/Observation.rs", patient_id="p1")
    refused = await http.get("/fhir/Condition", headers=bearer(narrow))
    assert refused.status_code == 403


async def test_conditional_writes_do_not_see_other_patients(http, auth, repository, data):
    for oid, pid in (("m1", "p1"), ("m2", "p2")):
        resource = observation(oid, pid)
        resource["identifier"] = [{"system": "urn:test", "value": "same"}]
        await put(repository, resource)
    token = bearer(await issue(auth, "patient/*.cruds", patient_id="p1"))
    body = observation("ignored", "p1")
    del body["id"]
    body["identifier"] = [{"system": "urn:test", "value": "same"}]
    updated = await http.put("/fhir/Observation?identifier=urn:test|same", json=body,
                             headers=token)
    assert updated.status_code == 200, updated.text
    assert updated.json()["id"] == "m1"
    exists = await http.post("/fhir/Observation", json=body, headers={
        **token, "If-None-Exist": "identifier=urn:test|same"})
    assert exists.status_code == 200 and exists.json()["id"] == "m1"
    deleted = await http.delete("/fhir/Observation?identifier=urn:test|same", headers=token)
    assert deleted.status_code in (200, 204)
    system = bearer(await issue(auth, "system/*.rs", kind="backend"))
    assert (await http.get("/fhir/Observation/m2", headers=system)).status_code == 200
    assert (await http.get("/fhir/Observation/m1", headers=system)).status_code == 410


async def test_a_system_search_needs_the_scopes_of_the_types_it_lists(http, auth, data):
    token = await issue(auth, "user/Observation.rs", fhir_user="Practitioner/dr")
    listed = await search(http, token, "?_type=Observation&category=laboratory")
    assert ids(listed) == {("Observation", "lab1"), ("Observation", "lab2")}
    for path in ("?_type=Observation,Patient", "?category=laboratory"):
        refused = await http.get(f"/fhir/{path}", headers=bearer(token))
        assert refused.status_code == 403, refused.text
        assert "insufficient_scope" in refused.headers["www-authenticate"]
