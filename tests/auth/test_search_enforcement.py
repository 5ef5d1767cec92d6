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
    assert bundle.get("total", 2) == 2
    other = await search(http, token, "Observation?subject=Patient/p2&_total=accurate")
    assert not other.get("entry")
    assert other.get("total", 0) == 0
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


async def test_system_search_and_unscoped_types(http, auth, data):
    token = await issue(auth, "patient/*.rs", patient_id="p1")
    everything = await search(http, token, "?_type=Observation,Condition,Patient")
    assert ids(everything) == {("Patient", "p1"), ("Observation", "o1"),
                               ("Observation", "lab1")}
    narrow = await issue(auth, "patient/Observation.rs", patient_id="p1")
    refused = await http.get("/fhir/Condition", headers=bearer(narrow))
    assert refused.status_code == 403
