"""``POST Patient/$match`` (R4 patient-operation-match): candidates found through storage
with the caller's access policy, scored and graded; the phonetic and phone search
parameters the candidate searches use, answered from indexes."""

from __future__ import annotations

import pytest

from fhir_server.identity import MATCH_GRADE_EXTENSION
from tests.rest.helpers import assert_outcome

from .test_health_id_writes import SYSTEM

ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
SUNITA = {"resourceType": "Patient", "id": "sunita", "gender": "female",
          "name": [{"given": ["Sunita", "Devi"], "family": "Sharma"}],
          "birthDate": "1990-03-07", "telecom": [{"system": "phone", "value": "+91 98450 12345"}],
          "address": [{"line": ["12 MG Road"], "city": "Pune", "postalCode": "411001"}]}
TWIN_A = {"resourceType": "Patient", "id": "twin-a", "gender": "male", "birthDate": "2023-05-02",
          "name": [{"given": ["Ram"], "family": "Yadav"}], "multipleBirthInteger": 1}
TWIN_B = {**TWIN_A, "id": "twin-b", "name": [{"given": ["Shyam"], "family": "Yadav"}],
          "multipleBirthInteger": 2}
STRANGER = {"resourceType": "Patient", "id": "stranger", "gender": "male",
            "name": [{"given": ["Arjun"], "family": "Menon"}], "birthDate": "1975-11-20"}


def _parameters(patient: dict, **more) -> dict:
    parameters = [{"name": "resource", "resource": patient}]
    for name, value in more.items():
        key = "valueBoolean" if isinstance(value, bool) else "valueInteger"
        parameters.append({"name": name, key: value})
    return {"resourceType": "Parameters", "parameter": parameters}


def _grades(bundle: dict) -> dict[str, str]:
    return {e["resource"]["id"]: e["search"]["extension"][0]["valueCode"]
            for e in bundle.get("entry", []) if e["search"]["mode"] == "match"}


@pytest.fixture
async def registered(client):
    for patient in (SUNITA, TWIN_A, TWIN_B, STRANGER):
        response = await client.put(f"Patient/{patient['id']}", json=patient)
        assert response.status_code == 201, response.text


async def test_a_misspelt_swapped_registration_is_found_and_graded(client, registered):
    query = {"resourceType": "Patient", "gender": "female", "birthDate": "1990-07-03",
             "name": [{"given": ["Suneeta"], "family": "Sharma"}],
             "telecom": [{"system": "phone", "value": "9845012345"}]}
    response = await client.post("Patient/$match", json=_parameters(query))
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["type"] == "searchset" and bundle["total"] == 1
    entry = bundle["entry"][0]
    assert entry["fullUrl"].endswith("/Patient/sunita")
    assert entry["search"]["mode"] == "match" and 0.999 <= entry["search"]["score"] <= 1
    assert entry["search"]["extension"] == [{"url": MATCH_GRADE_EXTENSION, "valueCode": "certain"}]


async def test_twins_are_not_one_person_and_strangers_are_not_candidates(client, registered):
    query = {**TWIN_A, "id": "incoming"}
    bundle = (await client.post("Patient/$match", json=_parameters(query))).json()
    grades = _grades(bundle)
    assert grades["twin-a"] == "certain"
    assert "twin-b" not in grades and "stranger" not in grades


async def test_only_certain_matches_and_count(client, registered):
    weak = {"resourceType": "Patient", "name": [{"given": ["S"], "family": "Sharma"}],
            "gender": "female", "birthDate": "1990-03-07"}
    some = (await client.post("Patient/$match", json=_parameters(weak))).json()
    assert _grades(some) == {"sunita": "probable"}
    none = (await client.post("Patient/$match",
                              json=_parameters(weak, onlyCertainMatches=True))).json()
    assert none["total"] == 0 and "entry" not in none
    twins = {"resourceType": "Patient", "gender": "male", "birthDate": "2023-05-02",
             "name": [{"family": "Yadav"}]}
    both = (await client.post("Patient/$match", json=_parameters(twins))).json()
    assert set(_grades(both)) == {"twin-a", "twin-b"}
    one = (await client.post("Patient/$match", json=_parameters(twins, count=1))).json()
    assert one["total"] == 1


async def test_several_certain_matches_are_not_returned_with_only_certain(client, registered):
    copy = {**SUNITA, "id": "sunita-copy"}
    await client.put("Patient/sunita-copy", json=copy)
    query = {**SUNITA, "id": "x"}
    bundle = (await client.post("Patient/$match",
                                json=_parameters(query, onlyCertainMatches=True))).json()
    assert bundle["total"] == 0
    outcome = bundle["entry"][-1]
    assert outcome["search"]["mode"] == "outcome"
    assert "2 records" in outcome["resource"]["issue"][0]["diagnostics"]


async def test_children_are_told_apart_by_their_mothers(client):
    def child(pid: str, mother: str) -> dict:
        return {"resourceType": "Patient", "id": pid, "gender": "female",
                "birthDate": "2024-01-15", "name": [{"family": "Khan"}]}

    def mother_of(pid: str, value: str) -> dict:
        return {"resourceType": "RelatedPerson", "id": f"m-{pid}", "patient": {
            "reference": f"Patient/{pid}"}, "identifier": [{"system": SYSTEM, "value": value}],
            "relationship": [{"coding": [{"system": ROLE, "code": "MTH"}]}]}

    for pid, value in (("c1", "11-1111-1111-1111"), ("c2", "22-2222-2222-2222")):
        await client.put(f"Patient/{pid}", json=child(pid, value))
        await client.put(f"RelatedPerson/m-{pid}", json=mother_of(pid, value))
    contained = {**mother_of("x", "22-2222-2222-2222"), "id": "m", "patient": {"reference": "#"}}
    query = {**child("x", ""), "contained": [contained]}
    query.pop("id")
    grades = _grades((await client.post("Patient/$match", json=_parameters(query))).json())
    assert grades.get("c2") in ("certain", "probable")
    assert grades.get("c1") in (None, "possible")


@pytest.mark.parametrize(("body", "words"), [
    ({"resourceType": "Parameters", "parameter": []}, "needs the patient"),
    ({"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": {"resourceType": "Observation"}}]}, "must be a patient"),
    ({"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": {"resourceType": "Patient"}},
        {"name": "count", "valueInteger": 0}]}, "count"),
    ({"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": {"resourceType": "Patient", "gender": "robot"}}]},
     "gender"),
])
async def test_malformed_calls_are_400(client, body, words):
    assert_outcome(await client.post("Patient/$match", json=body), 400, words)


async def test_get_is_405(client):
    assert_outcome(await client.get("Patient/$match"), 405)


async def test_phonetic_and_phone_searches_find_spelling_variants(client, db):
    await client.put("Patient/laxmi", json={
        "resourceType": "Patient", "id": "laxmi", "name": [{"given": ["Lakshmi"],
                                                          "family": "Srivastava"}],
        "telecom": [{"system": "phone", "value": "+91 (98450) 55555"}]})
    for value in ("Luxmi", "laxmi srivastav", "Shrivastava"):
        found = (await client.get("Patient", params={"phonetic": value})).json()
        assert [e["resource"]["id"] for e in found["entry"]] == ["laxmi"], value
    assert "entry" not in (await client.get("Patient", params={"phonetic": "Lata"})).json()
    for value in ("9845055555", "+91 (98450) 55555"):
        found = (await client.get("Patient", params={"phone": value})).json()
        assert [e["resource"]["id"] for e in found["entry"]] == ["laxmi"], value
    plan = await db.command("explain", {"find": "Patient", "filter": {
        "search.phonetic.n": "lxm"}}, verbosity="queryPlanner")
    assert "phonetic.n" in str(plan["queryPlanner"]["winningPlan"])


async def test_a_patient_the_caller_may_not_see_is_never_a_candidate(http, auth, repository):
    from tests.auth.test_enforcement import issue

    for patient in (SUNITA, {**STRANGER, "id": "p1"}):
        await repository.update(patient, patient["id"])
    query = {**SUNITA, "id": "incoming"}
    own = await issue(auth, "patient/*.rs", patient_id="p1")
    hidden = await http.post("/fhir/Patient/$match", json=_parameters(query),
                             headers={"Authorization": f"Bearer {own}"})
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["total"] == 0 and "entry" not in hidden.json()
    staff = await issue(auth, "user/*.rs", fhir_user="Practitioner/dr")
    seen = await http.post("/fhir/Patient/$match", json=_parameters(query),
                           headers={"Authorization": f"Bearer {staff}"})
    assert _grades(seen.json()) == {"sunita": "certain"}


async def test_every_candidate_search_is_answered_from_an_index(app, client, db, registered):
    """explain() of each blocking search's filter (compiled by the search engine): some
    condition of it is answered from an index (MongoDB's planner, and SecantusDB's executor,
    which takes the first filter key with an index; see bench/explain.py)."""
    from bench.explain import examined
    from fhir_server.access import SYSTEM as SERVER
    from fhir_server.identity import candidate_searches

    mother = {"resourceType": "RelatedPerson", "id": "m", "patient": {"reference": "#"},
              "identifier": [{"system": SYSTEM, "value": "11-1111-1111-1111"}],
              "relationship": [{"coding": [{"system": ROLE, "code": "MTH"}]}]}
    query = {**SUNITA, "identifier": [{"system": SYSTEM, "value": "91-2345-6789-0123"}],
             "contained": [mother]}
    searches = candidate_searches(query, phonetic=True)
    assert {s.reason for s in searches} == {"identifier", "identifier value in any system",
                                            "phone", "birth date", "phonetic name key",
                                            "mother's identifier"}
    engine = app.state.services.search
    for search in searches:
        condition = await engine.query_filter(SERVER, "Patient", list(search.parameters))
        indexed = [key for key, value in condition.items() if not key.startswith("$") and
                   (await examined(db.client, db.name, {"find": "Patient",
                                                        "filter": {key: value}})).plan == "IXSCAN"]
        assert indexed, (search.parameters, condition)
