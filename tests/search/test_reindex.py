"""Custom SearchParameters and ``$reindex``: searchable and in the CapabilityStatement
after a background reindex, whose progress is stored in MongoDB and resumed after a
crash (https://hl7.org/fhir/R4/searchparameter.html)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from fhir_server import clock
from fhir_server.search.reindex import resume_interrupted
from fhir_server.storage.reindex_jobs import JOBS

EXTENSION = "http://example.org/fhir/StructureDefinition/birth-order"
BIRTH_ORDER = {
    "resourceType": "SearchParameter", "id": "birth-order",
    "url": "http://example.org/fhir/SearchParameter/birth-order", "name": "BirthOrder",
    "status": "active", "description": "Birth order of a twin or higher-order multiple",
    "code": "birth-order", "base": ["Patient"], "type": "number",
    "expression": f"Patient.extension.where(url='{EXTENSION}').value",
}
BROKEN = {**BIRTH_ORDER, "id": "broken", "url": "http://example.org/SearchParameter/broken",
          "code": "broken", "expression": "Patient.name.where(("}


def _patient(rid: str, order: int) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": rid,
            "extension": [{"url": EXTENSION, "valueInteger": order}]}


async def _ids(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get("Patient", params=params)
    assert response.status_code == 200, response.text[:300]
    return sorted(e["resource"]["id"] for e in response.json().get("entry", []))


async def _finished(client: httpx.AsyncClient, location: str) -> dict[str, Any]:
    for _ in range(300):
        response = await client.get(location)
        assert response.status_code == 200
        values: dict[str, Any] = {}
        for parameter in response.json()["parameter"]:
            value = next(v for k, v in parameter.items() if k.startswith("value"))
            values[parameter["name"]] = values.get(parameter["name"], ()) + (value,)
        values = {k: v[0] if len(v) == 1 else v for k, v in values.items()}
        if values["status"] != "running":
            return values
        await asyncio.sleep(0.1)
    raise AssertionError("reindex did not finish")


async def test_custom_parameter_after_reindex(client) -> None:
    for rid, order in (("t1", 1), ("t2", 2), ("t3", 2)):
        assert (await client.put(f"Patient/{rid}", json=_patient(rid, order))).status_code == 201
    assert (await client.get("Patient", params={"birth-order": "2"})).status_code == 400
    for parameter in (BIRTH_ORDER, BROKEN):
        response = await client.put(f"SearchParameter/{parameter['id']}", json=parameter)
        assert response.status_code == 201, response.text
    response = await client.post("$reindex")
    assert response.status_code == 202, response.text
    location = response.headers["Content-Location"]
    assert "$reindex?job=" in location
    status = await _finished(client, location)
    assert status["status"] == "completed"
    assert status["processed"] >= 5  # three patients, two SearchParameters
    assert status["searchParameter"] == "SearchParameter/birth-order"
    assert "broken" in status["rejected"]

    assert await _ids(client, **{"birth-order": "2"}) == ["t2", "t3"]
    assert await _ids(client, **{"birth-order": "lt2"}) == ["t1"]
    assert (await client.get("Patient", params={"broken": "x"})).status_code == 400
    capability = (await client.get("metadata")).json()
    patient = next(r for r in capability["rest"][0]["resource"] if r["type"] == "Patient")
    names = {p["name"]: p for p in patient["searchParam"]}
    assert names["birth-order"]["definition"] == BIRTH_ORDER["url"]
    assert names["birth-order"]["type"] == "number"
    assert "broken" not in names

    await client.put("Patient/t4", json=_patient("t4", 3))  # indexed at write time now
    assert await _ids(client, **{"birth-order": "gt2"}) == ["t4"]


async def test_reindex_status_errors(client) -> None:
    assert (await client.get("$reindex", params={"job": "nope"})).status_code == 404
    assert (await client.get("$reindex")).status_code == 405
    assert (await client.post("$reindex", params={"bogus": "1"})).status_code == 400
    response = await client.post("Observation/$reindex")
    assert response.status_code == 202
    assert "/Observation/$reindex?job=" in response.headers["Content-Location"]


async def test_interrupted_job_resumes_from_its_stored_position(app, client, db) -> None:
    for rid, order in (("a1", 2), ("a2", 2), ("a3", 2), ("a4", 2)):
        await client.put(f"Patient/{rid}", json=_patient(rid, order))
    engine = app.state.services.search
    await engine.store.publish([BIRTH_ORDER])
    past = clock.now() - timedelta(minutes=5)
    await db[JOBS].insert_one({
        "_id": "crashed", "status": "running", "types": ["Patient"],
        "position": {"type": 0, "after": "a2"}, "processed": 2, "total": 4,
        "accepted": [], "rejected": [], "generation": 1, "created": past, "updated": past,
        "owner": "a-process-that-died", "leaseUntil": past + timedelta(seconds=60)})
    await resume_interrupted(engine, app.state.services.storage)  # a restarting server
    status = await _finished(client, "$reindex?job=crashed")
    assert status["status"] == "completed" and status["processed"] == 4
    assert await _ids(client, **{"birth-order": "2"}) == ["a3", "a4"]
