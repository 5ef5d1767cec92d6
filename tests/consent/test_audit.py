"""The audit trail: an AuditEvent per access decision, append-only through the API,
readable by the patient it is about, and a hash chain ``fhir-server audit verify`` checks."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid

import pytest
from pymongo import AsyncMongoClient

from fhir_server.database import connect
from fhir_server.storage.audit_chain import AuditTrail, ensure_indexes, verify

from .conftest import set_consents, set_policy, token
from .data import HIV_CODES, consent


async def _events(db) -> list[dict]:
    docs = await db["AuditEvent"].find({}).sort("chain.seq", 1).to_list()
    return [d["resource"] for d in docs]


async def test_each_request_writes_one_audit_event(consent_app, http, db):
    set_policy(consent_app)
    await set_consents(consent_app, [consent("c1", {"provision": [{"type": "deny",
                                                                   "code": HIV_CODES}]})])
    headers = await token(consent_app, "Practitioner/midwife")
    before = len(await _events(db))
    assert (await http.get("/fhir/Observation/obs-bp", headers=headers)).status_code == 200
    assert (await http.get("/fhir/Observation/obs-hiv", headers=headers,
                           )).status_code == 404
    search = await http.get("/fhir/Observation?subject=Patient/mum", headers=headers)
    assert search.status_code == 200
    events = (await _events(db))[before:]
    assert len(events) == 3
    read, denied, searched = events
    assert read["agent"][0]["who"] == {"reference": "Practitioner/midwife"}
    assert read["agent"][0]["requestor"] is True
    assert read["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"
    assert read["outcome"] == "0" and read["outcomeDesc"].startswith("permit")
    whats = [e.get("what", {}).get("reference") for e in read["entity"]]
    assert "Patient/mum" in whats and "Observation/obs-bp" in whats
    assert denied["outcome"] == "4" and denied["outcomeDesc"].startswith("deny")
    detail = {d["type"]: d["valueString"] for e in denied["entity"] for d in e.get("detail", [])}
    assert detail["consent-decision"] == "deny"
    assert "Consent/c1 provision.provision[0]: deny" in detail["consent-reason"]
    assert searched["subtype"][0]["code"] == "search-type"
    assert any(e["role"]["code"] == "24" for e in searched["entity"])
    validator = consent_app.state.services.validator
    for event in events:
        assert not [i for i in validator.validate(event) if i.severity == "error"]


async def test_audit_events_are_append_only_through_the_api(consent_app, http, db):
    headers = await token(consent_app, "Practitioner/midwife", scope="user/*.cruds")
    await http.get("/fhir/Patient/mum", headers=headers)
    event = (await _events(db))[-1]
    path = f"/fhir/AuditEvent/{event['id']}"
    changed = {**event, "outcome": "0", "outcomeDesc": "nothing happened"}
    for response in (
        await http.put(path, json=changed, headers=headers),
        await http.delete(path, headers=headers),
        await http.patch(path, json=[{"op": "remove", "path": "/entity"}],
                         headers={**headers, "Content-Type": "application/json-patch+json"}),
        await http.post("/fhir/AuditEvent", json={**event, "id": None}, headers=headers),
    ):
        assert response.status_code == 405, response.text
        assert response.json()["resourceType"] == "OperationOutcome"
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": changed, "request": {"method": "PUT", "url": path[6:]}}]}
    assert (await http.post("/fhir", json=bundle, headers=headers)).status_code == 405
    stored = await db["AuditEvent"].find_one({"_id": event["id"]})
    assert stored["resource"]["outcomeDesc"] == event["outcomeDesc"]
    assert (await verify(db)).intact


async def test_patients_read_who_looked_at_their_record(consent_app, http, db):
    set_policy(consent_app)
    await set_consents(consent_app, [])
    midwife = await token(consent_app, "Practitioner/midwife")
    await http.get("/fhir/Condition/cond-preg", headers=midwife)
    await http.get("/fhir/Observation/obs-kid", headers=midwife)
    mum = await token(consent_app, "Patient/mum", scope="patient/*.rs", patient="mum")
    response = await http.get("/fhir/AuditEvent?_count=500", headers=mum)
    assert response.status_code == 200, response.text
    events = [e["resource"] for e in response.json()["entry"]]
    looked = {(e["agent"][0]["who"].get("reference"), w["what"]["reference"])
              for e in events for w in e["entity"] if "what" in w}
    assert ("Practitioner/midwife", "Condition/cond-preg") in looked
    for event in events:
        about = {w["what"]["reference"] for w in event["entity"] if "what" in w}
        about |= {a["who"].get("reference") for a in event["agent"]}
        assert "Patient/mum" in about
    assert not any(w == "Observation/obs-kid" for _, w in looked)
    kid = await http.get("/fhir/AuditEvent?entity=Observation/obs-kid", headers=mum)
    assert kid.status_code == 200 and not kid.json().get("entry")


def _cli(database: str, mongodb_uri: str) -> tuple[int, dict]:
    env = {**os.environ, "MONGODB_URI": mongodb_uri, "FHIR_DATABASE": database}
    done = subprocess.run([sys.executable, "-m", "fhir_server.cli", "audit", "verify"],
                          env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout)


@pytest.fixture
async def chain(mongodb_uri: str, mongo_client: AsyncMongoClient):
    """A fresh database with six AuditEvents appended by the audit trail."""
    name = f"test_audit_{uuid.uuid4().hex[:10]}"
    db = mongo_client[name]
    await ensure_indexes(db)
    for i in range(6):
        await AuditTrail(db).append_all([{"resourceType": "AuditEvent", "outcome": "0",
                                          "outcomeDesc": f"event {i}",
                                          "recorded": "2024-06-01T00:00:00Z"}])
    yield name, db
    await mongo_client.drop_database(name)


async def _by_seq(db, seq: int) -> dict:
    return await db["AuditEvent"].find_one({"chain.seq": seq})


async def _edit(db) -> None:
    doc = await _by_seq(db, 3)
    await db["AuditEvent"].update_one({"_id": doc["_id"]},
                                      {"$set": {"resource.outcomeDesc": "edited"}})


async def _delete_middle(db) -> None:
    await db["AuditEvent"].delete_one({"chain.seq": 4})


async def _delete_last(db) -> None:
    await db["AuditEvent"].delete_one({"chain.seq": 6})


async def _reorder(db) -> None:
    two, five = await _by_seq(db, 2), await _by_seq(db, 5)
    await db["AuditEvent"].update_one({"_id": two["_id"]}, {"$set": {"chain.seq": -5}})
    await db["AuditEvent"].update_one({"_id": five["_id"]}, {"$set": {"chain.seq": 2}})
    await db["AuditEvent"].update_one({"_id": two["_id"]}, {"$set": {"chain.seq": 5}})


async def _insert_outside(db) -> None:
    await db["AuditEvent"].insert_one({"_id": "forged", "resource": {
        "resourceType": "AuditEvent", "id": "forged"}})


@pytest.mark.parametrize("tamper, message", [
    (_edit, "was modified"),
    (_delete_middle, "missing (deleted)"),
    (_delete_last, "last events were removed"),
    (_reorder, "does not follow"),
    (_insert_outside, "not in the chain"),
])
async def test_audit_verify_detects_tampering(chain, mongodb_uri, tamper, message):
    name, db = chain
    code, report = await asyncio.to_thread(_cli, name, mongodb_uri)
    assert code == 0 and report == {"intact": True, "events": 6, "problems": []}
    await tamper(db)
    code, report = await asyncio.to_thread(_cli, name, mongodb_uri)
    assert code == 1 and not report["intact"]
    assert any(message in problem for problem in report["problems"]), report


async def test_concurrent_writers_from_several_clients_keep_one_chain(chain, mongodb_uri):
    name, db = chain
    other = connect(mongodb_uri)
    try:
        dbs = [db, other[name]]
        await asyncio.gather(*(AuditTrail(dbs[i % 2]).append_all([{
            "resourceType": "AuditEvent", "outcomeDesc": f"concurrent {i}"}])
            for i in range(30)))
    finally:
        await other.close()
    result = await verify(db)
    assert result.intact, result.problems
    assert result.events == 36
    seqs = [d["chain"]["seq"] async for d in db["AuditEvent"].find({}, {"chain": 1})]
    assert sorted(seqs) == list(range(1, 37))


async def test_the_servers_own_trail_verifies(consent_app, mongodb_uri, http):
    headers = await token(consent_app, "Practitioner/midwife")
    await http.get("/fhir/Patient/mum", headers=headers)
    name = consent_app.state.settings.database
    code, report = await asyncio.to_thread(_cli, name, mongodb_uri)
    assert code == 0, report
    assert report["events"] >= 1


async def test_everything_leaves_the_access_log_out_unless_asked(consent_app, http):
    set_policy(consent_app)
    await set_consents(consent_app, [])
    midwife = await token(consent_app, "Practitioner/midwife")
    for _ in range(3):
        await http.get("/fhir/Patient/mum", headers=midwife)
    mum = await token(consent_app, "Patient/mum", scope="patient/*.rs", patient="mum")
    record = await http.get("/fhir/Patient/mum/$everything?_count=500", headers=mum)
    assert "AuditEvent" not in {e["resource"]["resourceType"] for e in record.json()["entry"]}
    url, events = "/fhir/Patient/mum/$everything?_type=AuditEvent&_count=2", []
    while url:
        page = await http.get(url, headers=mum)
        assert page.status_code == 200, page.text
        events += [e["resource"] for e in page.json().get("entry", [])]
        url = next((link["url"] for link in page.json()["link"]
                    if link["relation"] == "next"), None)
    assert len(events) >= 3 and {e["resourceType"] for e in events} == {"AuditEvent"}


async def test_an_append_catches_up_a_head_left_behind_the_events(chain):
    """A trail whose head lags its events (as the earlier protocol left it, moving the
    head with an unacknowledged write) takes new events after its newest one."""
    _, db = chain
    await db["audit_chain"].update_one({"_id": "head"}, {"$set": {"seq": 2}})
    await AuditTrail(db).append_all([{"resourceType": "AuditEvent", "outcomeDesc": "next"}])
    result = await verify(db)
    assert result.intact, result.problems
    assert result.events == 7
    assert (await db["audit_chain"].find_one({"_id": "head"}))["seq"] == 7
