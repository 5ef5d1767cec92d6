"""Kick-off parameters against the real database: _since, _type, _typeFilter, _elements,
Patient and Group level (GET and POST Parameters), includeAssociatedData."""

from __future__ import annotations

import asyncio

import pytest

from fhir_server import clock

from .conftest import ASYNC, download, export_all
from .test_async_pattern import observation, patient

LENIENT = {"Prefer": "respond-async; handling=lenient"}


@pytest.fixture
async def data(client):
    for pid in ("p1", "p2", "p3"):
        assert (await client.put(f"Patient/{pid}", json=patient(pid))).status_code == 201
    for oid, pid, code in (("o1", "p1", "8867-4"), ("o2", "p1", "29463-7"),
                           ("o3", "p2", "8867-4"), ("o4", "p3", "29463-7")):
        assert (await client.put(f"Observation/{oid}",
                                 json=observation(oid, pid, code))).status_code == 201
    condition = {"resourceType": "Condition", "id": "c1",
                 "subject": {"reference": "Patient/p2"}, "code": {"text": "anaemia"}}
    assert (await client.put("Condition/c1", json=condition)).status_code == 201
    group = {"resourceType": "Group", "id": "g1", "type": "person", "actual": True,
             "member": [{"entity": {"reference": "Patient/p1"}},
                        {"entity": {"reference": "Patient/p3"}}]}
    assert (await client.put("Group/g1", json=group)).status_code == 201
    organization = {"resourceType": "Organization", "id": "org", "name": "Clinic"}
    assert (await client.put("Organization/org", json=organization)).status_code == 201


def ids(files: dict, resource_type: str) -> list[str]:
    return sorted(r["id"] for r in files.get(resource_type, []))


async def test_since_exports_only_later_changes(client, data, fast_polling):
    await asyncio.sleep(0.01)
    since = clock.to_instant(clock.now())
    await asyncio.sleep(0.01)
    changed = {**observation("o3", "p2"), "status": "amended"}
    assert (await client.put("Observation/o3", json=changed)).status_code == 200
    assert (await client.put("Patient/p4", json=patient("p4"))).status_code == 201
    manifest, files = await export_all(client, "$export", params={"_since": since})
    assert {o["type"] for o in manifest["output"]} == {"Observation", "Patient"}
    assert ids(files, "Observation") == ["o3"] and ids(files, "Patient") == ["p4"]
    assert files["Observation"][0]["status"] == "amended"
    bad = await client.get("$export", params={"_since": "yesterday"}, headers=ASYNC)
    assert bad.status_code == 400


async def test_type_limits_the_files(client, data, fast_polling):
    manifest, files = await export_all(client, "$export",
                                       params={"_type": "Condition,Organization"})
    assert sorted(o["type"] for o in manifest["output"]) == ["Condition", "Organization"]
    assert ids(files, "Condition") == ["c1"]
    unknown = await client.get("$export", params={"_type": "Patient,Nonsense"},
                               headers=ASYNC)
    assert unknown.status_code == 400 and "Nonsense" in unknown.text
    manifest, files = await export_all(client, "$export", headers=LENIENT,
                                       params={"_type": "Patient,Nonsense"})
    assert [o["type"] for o in manifest["output"]] == ["Patient"]
    notes = await download(client, manifest["error"][0]["url"])
    assert "Nonsense" in notes[0]["issue"][0]["diagnostics"]


async def test_type_filter_is_a_search_query(client, data, fast_polling):
    manifest, files = await export_all(client, "$export", params=[
        ("_type", "Observation,Patient"),
        ("_typeFilter", "Observation?code=http://loinc.org|8867-4"),
        ("_typeFilter", "Patient?_id=p2")])
    assert ids(files, "Observation") == ["o1", "o3"]
    assert ids(files, "Patient") == ["p2"]
    either = [("_type", "Observation"), ("_typeFilter", "Observation?subject=Patient/p3"),
              ("_typeFilter", "Observation?code=8867-4")]
    _, files = await export_all(client, "$export", params=either)
    assert ids(files, "Observation") == ["o1", "o3", "o4"]  # filters of a type are ORed


@pytest.mark.parametrize("bad", ["Observation?_include=Observation:subject",
                                 "Observation?_sort=date", "Observation?nonsense=1",
                                 "Observation", "NoType?code=1"])
async def test_unsupported_type_filters_are_refused(client, data, bad):
    response = await client.get("$export", params={"_typeFilter": bad}, headers=ASYNC)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_elements_subsets_resources(client, data, fast_polling):
    _, files = await export_all(client, "$export", params={
        "_type": "Patient,Observation", "_elements": "Patient.gender,status"})
    one = files["Patient"][0]
    assert "gender" in one and "name" not in one
    assert any(t["code"] == "SUBSETTED" for t in one["meta"]["tag"])
    observation_keys = set(files["Observation"][0])
    assert "status" in observation_keys and "subject" not in observation_keys


async def test_patient_level_exports_compartments(client, data, fast_polling):
    manifest, files = await export_all(client, "Patient/$export")
    assert "Organization" not in {o["type"] for o in manifest["output"]}
    assert ids(files, "Patient") == ["p1", "p2", "p3"]
    assert ids(files, "Condition") == ["c1"]
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "patient", "valueReference": {"reference": "Patient/p2"}},
        {"name": "_type", "valueString": "Patient,Observation,Condition"}]}
    manifest, files = await export_all(client, "Patient/$export", json=body)
    assert ids(files, "Patient") == ["p2"] and ids(files, "Observation") == ["o3"]
    assert ids(files, "Condition") == ["c1"]
    outside = await client.get("Patient/$export", params={"_type": "Organization"},
                               headers=ASYNC)
    assert outside.status_code == 400


async def test_group_level_exports_members(client, data, fast_polling):
    manifest, files = await export_all(client, "Group/g1/$export")
    assert ids(files, "Patient") == ["p1", "p3"]
    assert ids(files, "Observation") == ["o1", "o2", "o4"]
    assert "Condition" not in files
    _, files = await export_all(client, "Group/g1/$export", json={
        "resourceType": "Parameters",
        "parameter": [{"name": "patient", "valueReference": {"reference": "Patient/p3"}}]})
    assert ids(files, "Patient") == ["p3"]
    missing = await client.get("Group/nope/$export", headers=ASYNC)
    assert missing.status_code == 404
    without_group = await client.get("Group/$export", headers=ASYNC)
    assert without_group.status_code == 400
    assert "Group/[id]/$export" in without_group.json()["issue"][0]["diagnostics"]


async def test_latest_provenance_resources_are_associated(client, data, fast_polling):
    provenance = {"resourceType": "Provenance", "id": "prov1",
                  "target": [{"reference": "Observation/o1"}],
                  "recorded": "2026-01-01T00:00:00Z",
                  "agent": [{"who": {"reference": "Organization/org"}}]}
    other = {**provenance, "id": "prov2", "target": [{"reference": "Observation/o4"}]}
    for resource in (provenance, other):
        assert (await client.put(f"Provenance/{resource['id']}",
                                 json=resource)).status_code == 201
    manifest, files = await export_all(client, "Patient/$export", params={
        "patient": "p1", "_type": "Patient,Observation",
        "includeAssociatedData": "LatestProvenanceResources"})
    assert ids(files, "Provenance") == ["prov1"]
    unsupported = await client.get("Patient/$export", headers=ASYNC, params={
        "includeAssociatedData": "RelevantProvenanceResources"})
    assert unsupported.status_code == 400
