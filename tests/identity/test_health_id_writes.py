"""The health ID on every Patient write (fhir_server.storage.health_ids): checked and stored
in canonical form, issued when configured, unique across the server (also under
concurrent writes, through every write path), released by updates and deletes."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import replace

import pytest

from fhir_server.identity import HealthIdConfig, issue_health_id, normalise_health_id
from tests.rest.helpers import assert_outcome, patient

SYSTEM = "https://healthid.example.org/sid/hid"
CONFIG = HealthIdConfig(system=SYSTEM)
_RNG = random.Random(15)


def new_id() -> str:
    return issue_health_id(CONFIG, _RNG)


def with_hid(value: str, family: str = "Devi", **extra) -> dict:
    return patient(family, identifier=[{"system": SYSTEM, "value": value}], **extra)


@pytest.fixture
def settings(settings, request):
    issue = getattr(request, "param", "checked") == "issued"
    return replace(settings, health_id=HealthIdConfig(system=SYSTEM, issue=issue))


async def _count(db, value: str) -> int:
    return await db["Patient"].count_documents(
        {"resource.identifier": {"$elemMatch": {"system": SYSTEM, "value": value}}})


async def test_a_valid_health_id_is_stored_in_canonical_form_and_found(client):
    value = new_id()
    created = await client.post("Patient", json=with_hid(normalise_health_id(value)))
    assert created.status_code == 201, created.text
    assert created.json()["identifier"][0]["value"] == value
    found = (await client.get("Patient", params={"identifier": f"{SYSTEM}|{value}"})).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [created.json()["id"]]


async def test_a_wrong_check_digit_is_422_and_stores_nothing(client, db):
    value = new_id()
    wrong = value[:-1] + str((int(value[-1]) + 1) % 10)
    outcome = assert_outcome(await client.post("Patient", json=with_hid(wrong)), 422,
                             "check digit")
    assert outcome["issue"][0]["expression"] == ["Patient.identifier[0].value"]
    assert_outcome(await client.post("Patient", json=with_hid("12-34")), 422, "format")
    assert await db["Patient"].count_documents({}) == 0


async def test_a_second_patient_with_the_same_health_id_is_409(client, db):
    value = new_id()
    first = await client.post("Patient", json=with_hid(value))
    assert first.status_code == 201
    outcome = assert_outcome(await client.post("Patient", json=with_hid(value, "Other")),
                             409, "already another patient")
    assert outcome["issue"][0]["code"] == "duplicate"
    assert first.json()["id"] not in json.dumps(outcome), "the holder is not named"
    spelled = normalise_health_id(value)
    assert_outcome(await client.put("Patient/other", json=with_hid(spelled, id="other")), 409)
    assert await _count(db, value) == 1
    assert await db["history"].count_documents({"type": "Patient"}) == 1


async def test_updates_and_deletes_release_what_the_patient_no_longer_holds(client):
    first, second = new_id(), new_id()
    a = (await client.post("Patient", json=with_hid(first))).json()
    b = (await client.post("Patient", json=with_hid(second, "Rao"))).json()
    assert_outcome(await client.put(f"Patient/{b['id']}", json=with_hid(first, id=b["id"])),
                   409)
    moved = await client.put(f"Patient/{a['id']}", json=with_hid(new_id(), id=a["id"]))
    assert moved.status_code == 200
    taken = await client.put(f"Patient/{b['id']}", json=with_hid(first, "Rao", id=b["id"]))
    assert taken.status_code == 200, taken.text
    assert (await client.delete(f"Patient/{b['id']}")).status_code == 200
    again = await client.post("Patient", json=with_hid(first, "Third"))
    assert again.status_code == 201, again.text


async def test_old_identifiers_are_checked_but_not_claimed(client):
    value = new_id()
    await client.post("Patient", json=with_hid(value))
    old = patient("Survivor", identifier=[{"use": "old", "system": SYSTEM, "value": value}])
    assert (await client.post("Patient", json=old)).status_code == 201
    bad = patient("Survivor", identifier=[{"use": "old", "system": SYSTEM, "value": "1"}])
    assert_outcome(await client.post("Patient", json=bad), 422)


async def test_concurrent_creates_with_one_health_id_make_one_patient(client, db):
    value = new_id()
    responses = await asyncio.gather(*(client.post("Patient", json=with_hid(value, f"W{i}"))
                                       for i in range(10)))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    assert await _count(db, value) == 1


async def test_every_write_path_keeps_it_unique(client, db):
    value = new_id()
    await client.post("Patient", json=with_hid(value))
    other = (await client.post("Patient", json=patient("Other"))).json()
    patched = await client.patch(
        f"Patient/{other['id']}", headers={"Content-Type": "application/json-patch+json"},
        json=[{"op": "add", "path": "/identifier", "value": [{"system": SYSTEM,
                                                                "value": value}]}])
    assert_outcome(patched, 409)
    transaction = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:5e0b6d4c-57f4-4a4b-8a43-8a9c3c1f0c11",
         "resource": patient("Fine"), "request": {"method": "POST", "url": "Patient"}},
        {"resource": with_hid(value, "Dup"), "request": {"method": "POST", "url": "Patient"}}]}
    assert_outcome(await client.post("", json=transaction), 409)
    batch = {**transaction, "type": "batch"}
    answer = (await client.post("", json=batch)).json()
    assert [e["response"]["status"][:3] for e in answer["entry"]] == ["201", "409"]
    assert await _count(db, value) == 1


@pytest.mark.parametrize("settings", ["issued"], indirect=True)
async def test_issued_when_configured(client, db):
    created = (await client.post("Patient", json=patient("Nohid"))).json()
    issued = [i for i in created["identifier"] if i["system"] == SYSTEM]
    assert len(issued) == 1 and issued[0]["use"] == "official"
    kept_value = new_id()
    kept = (await client.post("Patient", json=with_hid(kept_value))).json()
    assert [i["value"] for i in kept["identifier"]] == [kept_value]
    bulk = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient(f"B{i}"), "request": {"method": "POST", "url": "Patient"}}
        for i in range(3)]}
    assert (await client.post("", json=bulk)).status_code == 200
    values = [i["value"] async for doc in db["Patient"].find()
              for i in doc["resource"]["identifier"]]
    assert len(values) == len(set(values)) == 5
