"""Conformance content in MongoDB: stored definitions shared by every server process
through the refresh of fhir_server/storage/conformance_store.py (the shipped content:
test_seed.py)."""

from __future__ import annotations

from datetime import timedelta

from fhir_server.storage.conformance_store import ConformanceStore
from profiles.registry import DefinitionRegistry
from terminology import LocalTerminology, shipped_terminology


async def test_definitions_stored_by_one_process_reach_another(app, client, db):
    """Two stores on the same database stand for two server processes."""
    first = ConformanceStore(db, DefinitionRegistry(), LocalTerminology(
        base=shipped_terminology()), interval=0)
    second = ConformanceStore(db, DefinitionRegistry(), LocalTerminology(
        base=shipped_terminology()), interval=0)
    await first.refresh()
    await second.refresh()
    profile = {"resourceType": "StructureDefinition", "id": "named-patient",
               "url": "https://example.org/StructureDefinition/named-patient",
               "name": "NamedPatient", "status": "draft", "kind": "resource",
               "abstract": False, "type": "Patient", "derivation": "constraint",
               "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
               "differential": {"element": [
                   {"id": "Patient.name", "path": "Patient.name", "min": 1}]}}
    response = await client.put("StructureDefinition/named-patient", json=profile,
                                headers={"Content-Type": "application/fhir+json"})
    assert response.status_code == 201, response.text
    assert second.registry.get(profile["url"]) is None
    assert await second.refresh() is True
    assert second.registry.tree(profile["url"]).children["name"].min == 1
    assert await second.refresh() is False
    assert await first.refresh() is True
    await client.delete("StructureDefinition/named-patient")
    assert await first.refresh() is True
    assert first.registry.get(profile["url"]) is None


async def test_a_quiet_look_moves_the_checkpoint_on(app, db):
    """With nothing new for a while, a look records its time, so that the next start reads
    only what comes after it (here the while is made to have passed)."""
    store = ConformanceStore(db, DefinitionRegistry(), LocalTerminology(
        base=shipped_terminology()), interval=0)
    await store.refresh(force=True)
    recorded = (await db["conformance_state"].find_one({"_id": "conformance-store"}))["since"]
    store._since = recorded - timedelta(minutes=2)
    assert await store.refresh() is False
    moved = (await db["conformance_state"].find_one({"_id": "conformance-store"}))["since"]
    assert moved > recorded
