"""Conformance content in MongoDB: the shipped terminology stored once per database
(terminology/seed.py), and stored definitions shared by every server process through
the fingerprint refresh (profiles/stored.py)."""

from __future__ import annotations

from fhir_server.services import SystemWriter
from profiles.registry import DefinitionRegistry
from profiles.stored import ConformanceStore
from terminology import LocalTerminology, shipped_terminology
from terminology.local import shipped_resources
from terminology.seed import SHIPPED_TAG, STATE, seed_shipped

CVX = "http://hl7.org/fhir/sid/cvx"


async def test_seeding_stores_tagged_resources_once(app, db):
    repository = SystemWriter(app.state.services.storage)
    sample = [r for r in shipped_resources() if r["id"] in ("cvx", "pregnancy-status",
                                                            "cm-name-use-v2")]
    assert len(sample) == 3

    async def store(resource, rid):
        return await repository.update(resource, rid)

    assert await seed_shipped(db, store, sample) == 3
    assert await seed_shipped(db, store, sample) == 0
    stored = await db["CodeSystem"].find_one({"_id": "cvx"})
    assert SHIPPED_TAG in stored["resource"]["meta"]["tag"]
    assert stored["resource"]["url"] == CVX
    assert await db["ConceptMap"].count_documents({}) == 1
    marker = await db[STATE].find_one({"_id": "shipped-terminology"})
    assert marker["state"] == "done"


async def test_shipped_content_is_not_loaded_twice(app, db):
    repository = SystemWriter(app.state.services.storage)
    [cvx] = [r for r in shipped_resources() if r["id"] == "cvx"]
    await seed_shipped(db, lambda r, rid: repository.update(r, rid), [cvx])
    terminology = LocalTerminology(base=shipped_terminology())
    await ConformanceStore(db, DefinitionRegistry(), terminology).refresh(force=True)
    assert terminology.resources("CodeSystem") == shipped_terminology().resources("CodeSystem")


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
