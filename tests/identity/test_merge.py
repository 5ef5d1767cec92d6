"""``POST Patient/$merge`` (R5 semantics): every resource of the source's compartment moves
to the target in one transaction (a failure injected between two writes leaves nothing
changed), the links and identifiers, preview, audit, history, and who may merge."""

from __future__ import annotations

import pytest

from fhir_server.storage.resources import Resources
from tests.rest.helpers import assert_outcome

MRN = "https://district-hospital.example.org/mrn"
BASE = "http://testserver/fhir"


def _patient(pid: str, family: str, mrn: str) -> dict:
    return {"resourceType": "Patient", "id": pid, "active": True, "gender": "female",
            "birthDate": "2023-02-11", "name": [{"family": family, "given": ["Anaya"]}],
            "identifier": [{"system": MRN, "value": mrn}]}


def _observation(oid: str, subject: str) -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "subject": {"reference": subject},
            "valueQuantity": {"value": 7.2, "unit": "kg", "system": "http://unitsofmeasure.org",
                              "code": "kg"}}


RECORD = [
    _patient("src", "Kulkarni", "M-1001"), _patient("tgt", "Kulkarni", "M-2002"),
    _observation("o1", "Patient/src"), _observation("o2", f"{BASE}/Patient/src"),
    _observation("o3", "Patient/tgt"),
    {"resourceType": "Encounter", "id": "e1", "status": "finished",
     "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
     "subject": {"reference": "Patient/src"}},
    {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/src"},
     "encounter": {"reference": "Encounter/e1"},
     "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]}},
    {"resourceType": "Provenance", "id": "pv1", "recorded": "2024-01-02T03:04:05Z",
     "target": [{"reference": "Patient/src/_history/1"}],
     "agent": [{"who": {"display": "registration desk"}}]},
]
MOVED = {"Observation/o1", "Observation/o2", "Encounter/e1", "Condition/c1"}


def _merge(source: str = "src", target: str = "tgt", **more) -> dict:
    parameters = [{"name": "source-patient", "valueReference": {"reference": f"Patient/{source}"}},
                  {"name": "target-patient", "valueReference": {"reference": f"Patient/{target}"}}]
    parameters += [{"name": k.replace("_", "-"), **v} for k, v in more.items()]
    return {"resourceType": "Parameters", "parameter": parameters}


def _out(response) -> dict:
    assert response.status_code == 200, response.text
    return {p["name"]: p["resource"] for p in response.json()["parameter"]}


async def _state(db) -> dict[str, tuple[int, int]]:
    """Current version and number of versions of every stored resource."""
    state = {}
    for resource in RECORD:
        key = f"{resource['resourceType']}/{resource['id']}"
        doc = await db[resource["resourceType"]].find_one({"_id": resource["id"]})
        versions = await db["history"].count_documents({"type": resource["resourceType"],
                                                        "id": resource["id"]})
        state[key] = (doc["vid"], versions)
    return state


@pytest.fixture
async def record(client):
    for resource in RECORD:
        response = await client.put(f"{resource['resourceType']}/{resource['id']}",
                                    json=resource)
        assert response.status_code == 201, response.text


async def test_merge_moves_the_compartment_links_and_identifiers(client, db, record):
    out = _out(await client.post("Patient/$merge", json=_merge()))
    assert out["input"] == _merge()
    moved = {i["expression"][0] for i in out["outcome"]["issue"][1:]}
    assert moved == MOVED
    target = out["result"]
    assert {"other": {"reference": "Patient/src"}, "type": "replaces"} in target["link"]
    assert {"system": MRN, "value": "M-1001", "use": "old"} in target["identifier"]
    source = (await client.get("Patient/src")).json()
    assert source["active"] is False
    assert source["link"] == [{"other": {"reference": "Patient/tgt"}, "type": "replaced-by"}]
    for key in ("Observation/o1", "Encounter/e1", "Condition/c1"):
        assert (await client.get(key)).json()["subject"] == {"reference": "Patient/tgt"}
    assert (await client.get("Observation/o2")).json()["subject"]["reference"] == \
        f"{BASE}/Patient/tgt"
    provenance = (await client.get("Provenance/pv1")).json()
    assert provenance["target"] == [{"reference": "Patient/src/_history/1"}]
    found = (await client.get("Patient", params={"identifier": f"{MRN}|M-1001"})).json()
    assert {e["resource"]["id"] for e in found["entry"]} == {"src", "tgt"}
    everything = (await client.get("Patient/tgt/Observation")).json()
    assert {e["resource"]["id"] for e in everything["entry"]} == {"o1", "o2", "o3"}
    before = (await client.get("Observation/o1/_history/1")).json()
    assert before["subject"] == {"reference": "Patient/src"}, "reversible from history"
    audit = await db["AuditEvent"].find_one({"resource.outcomeDesc": {"$regex": "merge"}})
    described = {e["what"]["reference"].rsplit("/_history", 1)[0]
                 for e in audit["resource"]["entity"]}
    assert described == MOVED | {"Patient/src", "Patient/tgt"}


async def test_preview_changes_nothing(client, db, record):
    before = await _state(db)
    out = _out(await client.post("Patient/$merge",
                                 json=_merge(preview={"valueBoolean": True})))
    assert out["outcome"]["issue"][0]["diagnostics"].startswith("Preview: ")
    assert {i["expression"][0] for i in out["outcome"]["issue"][1:]} == MOVED
    assert {"other": {"reference": "Patient/src"}, "type": "replaces"} in out["result"]["link"]
    assert await _state(db) == before
    assert await db["AuditEvent"].count_documents({}) == 0


async def test_a_failure_between_writes_leaves_nothing_changed(client, db, record,
                                                               monkeypatch):
    before = await _state(db)
    original, calls = Resources.update, []

    async def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("injected crash between two writes of the merge")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(Resources, "update", failing)
    response = await client.post("Patient/$merge", json=_merge())
    assert response.status_code == 500
    assert len(calls) == 3, "two writes happened before the crash"
    monkeypatch.setattr(Resources, "update", original)
    assert await _state(db) == before
    assert (await client.get("Patient/src")).json()["active"] is True
    assert _out(await client.post("Patient/$merge", json=_merge()))["result"]["id"] == "tgt"


async def test_patients_found_by_identifier(client, record):
    by_identifier = _merge()
    by_identifier["parameter"][0] = {"name": "source-patient-identifier",
                                     "valueIdentifier": {"system": MRN, "value": "M-1001"}}
    assert _out(await client.post("Patient/$merge", json=by_identifier))["result"]["id"] == "tgt"


REFUSED = [
    ([{"name": "source-patient-identifier", "valueIdentifier": {"system": MRN, "value": "none"}},
      {"name": "target-patient", "valueReference": {"reference": "Patient/tgt"}}],
     422, "does not resolve"),
    ([{"name": "source-patient", "valueReference": {"reference": "Patient/src"}},
      {"name": "target-patient", "valueReference": {"reference": "Patient/src"}}],
     400, "same record"),
    ([{"name": "source-patient", "valueReference": {"reference": "Patient/src"}},
      {"name": "target-patient", "valueReference": {"reference": "Patient/nope"}}],
     404, "not known"),
    ([{"name": "source-patient", "valueReference": {"reference": "Patient/src"}}],
     400, "target-patient"),
    ([{"name": "source-patient", "valueReference": {"reference": "Patient/src"}},
      {"name": "target-patient", "valueReference": {"reference": "Patient/tgt"}},
      {"name": "result-patient", "resource": {"resourceType": "Patient", "id": "other"}}],
     400, "target's id"),
    ([{"name": "source", "valueString": "x"}], 400, "unknown $merge parameter"),
]


async def test_refused_requests_change_nothing(client, db, record):
    before = await _state(db)
    for parameters, status, words in REFUSED:
        body = {"resourceType": "Parameters", "parameter": parameters}
        assert_outcome(await client.post("Patient/$merge", json=body), status, words)
    assert_outcome(await client.get("Patient/$merge"), 405)
    assert await _state(db) == before


async def test_a_merged_patient_cannot_be_merged_again(client, record):
    await client.post("Patient/$merge", json=_merge())
    assert_outcome(await client.post("Patient/$merge", json=_merge()), 422, "already merged")


async def test_result_patient_becomes_the_target(client, record):
    result = {**RECORD[1], "name": [{"family": "Kulkarni", "given": ["Anaya", "S"]}]}
    out = _out(await client.post("Patient/$merge", json=_merge(result_patient={
        "resource": result})))
    assert out["result"]["name"][0]["given"] == ["Anaya", "S"]
    assert out["result"]["link"] == [{"other": {"reference": "Patient/src"},
                                      "type": "replaces"}]


async def test_only_callers_who_may_change_everything_may_merge(http, auth, repository):
    from tests.auth.test_enforcement import issue

    for resource in RECORD:
        await repository.update(resource, resource["id"])
    headers = {"Content-Type": "application/fhir+json"}
    for scope in ("user/Patient.cruds", "user/*.rs", "user/Patient.cruds user/Observation.rs "
                  "user/Encounter.cruds user/Condition.cruds user/Provenance.cruds"):
        token = await issue(auth, scope, fhir_user="Practitioner/dr")
        refused = await http.post("/fhir/Patient/$merge", json=_merge(),
                                  headers={**headers, "Authorization": f"Bearer {token}"})
        assert refused.status_code in (403, 404), (scope, refused.text)
    token = await issue(auth, "user/*.cruds", fhir_user="Practitioner/dr")
    done = await http.post("/fhir/Patient/$merge", json=_merge(),
                           headers={**headers, "Authorization": f"Bearer {token}"})
    assert done.status_code == 200, done.text
