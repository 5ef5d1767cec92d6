"""create, read, vread, update, update-as-create and delete (FHIR R4 http page 3.1.0.2-3.1.0.7)."""

from __future__ import annotations

import gzip
from email.utils import parsedate_to_datetime
from pathlib import Path

import orjson

from .helpers import assert_outcome, patient

VALUESETS = Path(__file__).parents[2] / "terminology" / "r4" / "valuesets.json.gz"


async def test_create_assigns_id_and_meta_and_version_headers(client, db):
    tag = {"system": "urn:mch:tags", "code": "anc"}
    sent = patient(id="client-chosen", meta={"versionId": "99", "tag": [tag],
                                              "source": "urn:mch:clinic-7"})
    r = await client.post("Patient", json=sent)
    assert r.status_code == 201, r.text
    body = r.json()
    rid = body["id"]
    assert rid != "client-chosen"
    assert body["meta"]["versionId"] == "1"
    assert body["meta"]["tag"] == [tag] and body["meta"]["source"] == "urn:mch:clinic-7"
    assert r.headers["etag"] == 'W/"1"'
    assert r.headers["location"] == f"http://testserver/fhir/Patient/{rid}/_history/1"
    modified = parsedate_to_datetime(r.headers["last-modified"])
    assert modified.isoformat()[:19] == body["meta"]["lastUpdated"][:19]
    stored = await db["Patient"].find_one({"_id": rid})
    assert stored["vid"] == 1
    assert await db["history"].count_documents({"type": "Patient", "id": rid}) == 1


async def test_read_returns_what_was_created(client):
    created = (await client.post("Patient", json=patient())).json()
    r = await client.get(f"Patient/{created['id']}")
    assert r.status_code == 200
    assert r.json() == created
    assert r.headers["etag"] == 'W/"1"'
    assert "last-modified" in r.headers
    assert r.headers["content-type"] == "application/fhir+json; charset=utf-8"


async def test_head_answers_headers_without_body(client):
    rid = (await client.post("Patient", json=patient())).json()["id"]
    r = await client.head(f"Patient/{rid}")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["etag"] == 'W/"1"'
    missing = await client.head("Patient/nope")
    assert missing.status_code == 404
    assert missing.content == b""


async def test_update_makes_a_new_version_and_vread_keeps_the_old(client):
    rid = (await client.post("Patient", json=patient("First"))).json()["id"]
    r = await client.put(f"Patient/{rid}", json=patient("Second", id=rid))
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["versionId"] == "2"
    assert r.headers["etag"] == 'W/"2"'
    assert r.headers["location"].endswith(f"/Patient/{rid}/_history/2")
    v1 = await client.get(f"Patient/{rid}/_history/1")
    assert v1.status_code == 200
    assert v1.json()["name"][0]["family"] == "First"
    assert v1.headers["etag"] == 'W/"1"'
    v2 = await client.get(f"Patient/{rid}/_history/2")
    assert v2.json()["name"][0]["family"] == "Second"
    assert (await client.get(f"Patient/{rid}/_history/3")).status_code == 404
    assert_outcome(await client.get(f"Patient/{rid}/_history/x"), 400, "version")


async def test_update_without_change_keeps_the_version(client):
    rid = (await client.post("Patient", json=patient())).json()["id"]
    again = await client.put(f"Patient/{rid}", json=patient(id=rid))
    assert again.status_code == 200
    assert again.json()["meta"]["versionId"] == "1"


async def test_update_as_create_uses_the_client_id(client):
    r = await client.put("Patient/mother-1", json=patient(id="mother-1"))
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "mother-1"
    assert r.headers["location"].endswith("/Patient/mother-1/_history/1")
    assert (await client.get("Patient/mother-1")).json()["name"][0]["family"] == "Okafor"


async def test_update_id_and_type_must_match_the_url(client, db):
    assert_outcome(await client.put("Patient/a", json=patient(id="b")), 400, "does not match")
    assert_outcome(await client.put("Patient/a", json=patient()), 400, "id")
    wrong_type = {"resourceType": "Observation", "id": "a", "status": "final",
                  "code": {"text": "x"}}
    assert_outcome(await client.put("Patient/a", json=wrong_type), 400, "resourceType")
    assert_outcome(await client.post("Patient", json=wrong_type), 400, "resourceType")
    assert_outcome(await client.put("Patient/bad$id", json=patient(id="bad$id")), 400,
                   "valid fhir id")
    assert await db["Patient"].count_documents({}) == 0
    assert await db["history"].count_documents({}) == 0


async def test_delete_then_read_is_gone_and_history_keeps_it(client):
    rid = (await client.post("Patient", json=patient())).json()["id"]
    r = await client.delete(f"Patient/{rid}")
    assert r.status_code == 200
    assert r.json()["resourceType"] == "OperationOutcome"
    assert r.headers["etag"] == 'W/"2"'
    assert_outcome(await client.get(f"Patient/{rid}"), 410, "deleted")
    assert_outcome(await client.get(f"Patient/{rid}/_history/2"), 410)
    assert (await client.get(f"Patient/{rid}/_history/1")).status_code == 200
    history = (await client.get(f"Patient/{rid}/_history")).json()
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]
    assert "resource" not in history["entry"][0]
    again = await client.delete(f"Patient/{rid}")
    assert again.status_code == 200
    assert len((await client.get(f"Patient/{rid}/_history")).json()["entry"]) == 2


async def test_update_brings_a_deleted_resource_back(client):
    await client.put("Patient/p1", json=patient(id="p1"))
    await client.delete("Patient/p1")
    r = await client.put("Patient/p1", json=patient("Back", id="p1"))
    assert r.status_code == 201
    assert r.json()["meta"]["versionId"] == "3"
    assert (await client.get("Patient/p1")).json()["name"][0]["family"] == "Back"


async def test_delete_of_an_unknown_resource_changes_nothing(client, db):
    r = await client.delete("Patient/never-was")
    assert r.status_code == 200
    assert r.json()["resourceType"] == "OperationOutcome"
    assert await db["history"].count_documents({}) == 0


async def test_read_of_unknown_resource_and_unknown_type(client):
    assert_outcome(await client.get("Patient/nobody"), 404, "Patient/nobody")
    assert_outcome(await client.get("Patient/nobody/_history/1"), 404)
    assert_outcome(await client.get("Patinet/1"), 404, "unknown resource type")
    assert_outcome(await client.post("Patinet", json=patient()), 404)
    assert_outcome(await client.get("Patient/bad$id"), 400, "valid fhir id")
    assert_outcome(await client.get("http://testserver/other"), 404, "fhir base")


async def test_every_r4_resource_type_is_accepted(client):
    """Every concrete type of the official R4 ``resource-types`` CodeSystem is served."""
    bundle = orjson.loads(gzip.open(VALUESETS).read())
    system = next(e["resource"] for e in bundle["entry"]
                  if e["resource"].get("url") == "http://hl7.org/fhir/resource-types")
    types = sorted({c["code"] for c in system["concept"]} - {"Resource", "DomainResource"})
    assert len(types) == 146
    assert (await client.get("Resource/x")).status_code == 404
    assert (await client.get("DomainResource/x")).status_code == 404
    for name in types[::15]:
        r = await client.put(f"{name}/t1", json={"resourceType": name, "id": "t1"})
        assert r.status_code in (201, 400), (name, r.text)  # 400: a required element missing
        assert r.status_code != 404
    for name in types:
        r = await client.get(f"{name}/absent")
        assert r.status_code == 404 and "is not known" in r.text, name
