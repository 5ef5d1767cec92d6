"""Batch Bundles (R4 http.html#transaction): independent entries, per-entry outcomes."""

from __future__ import annotations

from .helpers import bundle, entry, observation, patient, urn

FHIR = {"Content-Type": "application/fhir+json"}


async def test_one_failure_does_not_affect_the_others(client, db):
    await client.put("Patient/v", json=patient(id="v"), headers=FHIR)
    response = await client.post("", json=bundle(
        "batch",
        entry("POST", "Patient", patient("First"), urn()),
        entry("PUT", "Patient/v", patient("Stale", id="v"), ifMatch='W/"9"'),
        entry("POST", "Observation", {"resourceType": "Patient"}),
        entry("TRACE", "Patient"),
        entry("PUT", "Patient/w", patient("Last", id="w")),
        entry("GET", "Patient/v"),
        entry("GET", "Patient/missing"),
    ), headers=FHIR)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["type"] == "batch-response"
    statuses = [e["response"]["status"][:3] for e in result["entry"]]
    assert statuses == ["201", "412", "400", "400", "201", "200", "404"]
    for failed in (1, 2, 3, 6):
        outcome = result["entry"][failed]["response"]["outcome"]
        assert outcome["resourceType"] == "OperationOutcome"
        assert f"Bundle.entry[{failed}]" in outcome["issue"][0]["diagnostics"]
    assert await db["Patient"].count_documents({}) == 3
    assert (await client.get("Patient/v")).json()["meta"]["versionId"] == "1"
    assert result["entry"][5]["resource"]["id"] == "v"


async def test_batch_entries_cannot_link_to_each_other(client, db):
    p = urn()
    response = await client.post("", json=bundle(
        "batch",
        entry("POST", "Patient", patient(), p),
        entry("POST", "Observation", observation(p), urn()),
    ), headers=FHIR)
    statuses = [e["response"]["status"][:3] for e in response.json()["entry"]]
    assert statuses == ["201", "400"]
    assert await db["Observation"].count_documents({}) == 0


async def test_batch_conditional_create_and_delete(client, db):
    await client.put("Patient/d", json=patient(id="d"), headers=FHIR)
    response = await client.post("", json=bundle(
        "batch",
        entry("POST", "Patient", patient(), urn(), ifNoneExist="_id=d"),
        entry("DELETE", "Patient?_id=d"),
        entry("DELETE", "Patient?_id=nothing"),
    ), headers=FHIR)
    statuses = [e["response"]["status"][:3] for e in response.json()["entry"]]
    assert statuses == ["200", "204", "204"]
    assert await db["Patient"].count_documents({}) == 0


async def test_get_entries_may_search(client):
    await client.put("Patient/s1", json=patient(id="s1"), headers=FHIR)
    response = await client.post("", json=bundle(
        "batch", entry("GET", "Patient?_id=s1"), entry("GET", "Patient?colour=red")),
        headers=FHIR)
    found, refused = response.json()["entry"]
    assert found["response"]["status"].startswith("200")
    assert found["resource"]["type"] == "searchset"
    assert [e["resource"]["id"] for e in found["resource"]["entry"]] == ["s1"]
    assert refused["response"]["status"].startswith("400")
    assert refused["response"]["outcome"]["resourceType"] == "OperationOutcome"
