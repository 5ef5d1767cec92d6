"""Conditional create, update, delete and patch with 0, 1 and many matches
(FHIR R4 http page 3.1.0.4.3, 3.1.0.7.1, 3.1.0.8.1, 3.1.0.6.1).

The search parameter is ``_id``: the REST core only needs the search service's
``match_ids``, whatever parameters it supports.
"""

from __future__ import annotations

from .helpers import assert_outcome, patient

JSON_PATCH = {"Content-Type": "application/json-patch+json"}


async def _count(db, collection: str = "Patient") -> int:
    return await db[collection].count_documents({})


async def test_conditional_create_no_match_creates(client, db):
    r = await client.post("Patient", json=patient(), headers={"If-None-Exist": "_id=nobody"})
    assert r.status_code == 201, r.text
    assert await _count(db) == 1


async def test_conditional_create_one_match_returns_it_unchanged(client, db):
    await client.put("Patient/m1", json=patient("Existing", id="m1"))
    r = await client.post("Patient", json=patient("New"), headers={"If-None-Exist": "_id=m1"})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == "m1"
    assert r.json()["name"][0]["family"] == "Existing"
    assert r.headers["etag"] == 'W/"1"'
    assert await _count(db) == 1
    assert await db["history"].count_documents({}) == 1


async def test_conditional_create_header_forms(client, db):
    await client.put("Patient/m1", json=patient(id="m1"))
    for header in ("Patient?_id=m1", "?_id=m1", "http://testserver/fhir/Patient?_id=m1"):
        r = await client.post("Patient", json=patient(), headers={"If-None-Exist": header})
        assert r.status_code == 200, (header, r.text)
    assert await _count(db) == 1
    assert_outcome(await client.post("Patient", json=patient(),
                                     headers={"If-None-Exist": "Observation?_id=m1"}),
                   400, "Observation")


async def test_conditional_create_many_matches_is_412(client, db):
    await client.put("Patient/a", json=patient(id="a"))
    await client.put("Patient/b", json=patient(id="b"))
    r = await client.post("Patient", json=patient(), headers={"If-None-Exist": "_id=a,b"})
    assert_outcome(r, 412, "more than one")
    assert await _count(db) == 2


async def test_conditional_update_no_match_creates(client, db):
    r = await client.put("Patient?_id=nobody", json=patient())
    assert r.status_code == 201, r.text
    assert await _count(db) == 1


async def test_conditional_update_no_match_with_id_is_update_as_create(client):
    r = await client.put("Patient?_id=nobody", json=patient(id="chosen"))
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "chosen"
    assert (await client.get("Patient/chosen")).status_code == 200


async def test_conditional_update_one_match_updates_it(client, db):
    await client.put("Patient/m1", json=patient("Old", id="m1"))
    r = await client.put("Patient?_id=m1", json=patient("New"))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == "m1" and r.json()["meta"]["versionId"] == "2"
    assert (await client.get("Patient/m1")).json()["name"][0]["family"] == "New"
    mismatch = await client.put("Patient?_id=m1", json=patient("Other", id="m2"))
    assert_outcome(mismatch, 400, "m2")
    assert (await client.get("Patient/m1")).json()["name"][0]["family"] == "New"
    assert await _count(db) == 1


async def test_conditional_update_many_matches_is_412(client, db):
    await client.put("Patient/a", json=patient("A", id="a"))
    await client.put("Patient/b", json=patient("B", id="b"))
    assert_outcome(await client.put("Patient?_id=a,b", json=patient("X")), 412,
                   "more than one")
    assert await db["history"].count_documents({}) == 2


async def test_conditional_delete_outcomes(client, db):
    await client.put("Patient/a", json=patient(id="a"))
    await client.put("Patient/b", json=patient(id="b"))
    none = await client.delete("Patient?_id=nobody")
    assert none.status_code == 200 and none.json()["resourceType"] == "OperationOutcome"
    assert_outcome(await client.delete("Patient?_id=a,b"), 412, "more than one")
    assert await _count(db) == 2
    one = await client.delete("Patient?_id=a")
    assert one.status_code == 200
    assert one.headers["etag"] == 'W/"2"'
    assert (await client.get("Patient/a")).status_code == 410
    assert (await client.get("Patient/b")).status_code == 200


async def test_conditional_interactions_need_criteria(client, db):
    assert_outcome(await client.delete("Patient"), 400, "search parameters")
    assert_outcome(await client.put("Patient", json=patient()), 400, "search parameters")
    assert_outcome(await client.patch("Patient", json=[], headers=JSON_PATCH), 400,
                   "search parameters")
    assert await _count(db) == 0


async def test_conditional_patch_outcomes(client):
    await client.put("Patient/a", json=patient(id="a"))
    await client.put("Patient/b", json=patient(id="b"))
    ops = [{"op": "replace", "path": "/gender", "value": "male"}]
    assert_outcome(await client.patch("Patient?_id=nobody", json=ops, headers=JSON_PATCH), 404)
    assert_outcome(await client.patch("Patient?_id=a,b", json=ops, headers=JSON_PATCH), 412)
    r = await client.patch("Patient?_id=b", json=ops, headers=JSON_PATCH)
    assert r.status_code == 200, r.text
    assert r.json()["gender"] == "male"
    assert (await client.get("Patient/a")).json()["gender"] == "female"
