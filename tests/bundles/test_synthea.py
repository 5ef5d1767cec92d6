"""Loading the 13 Synthea transaction Bundles through ``POST /fhir``."""

from __future__ import annotations

from .synthea import BUNDLES, load, stored_references

FHIR = {"Content-Type": "application/fhir+json"}


async def test_synthea_bundles_load_and_every_reference_resolves(client, db):
    assert len(BUNDLES) == 13
    expected = 0
    for path in BUNDLES:
        bundle = load(path)
        expected += len(bundle["entry"])
        response = await client.post("", content=path.read_bytes(), headers=FHIR)
        assert response.status_code == 200, f"{path.name}: {response.text[:500]}"
        statuses = {e["response"]["status"][:3] for e in response.json()["entry"]}
        assert statuses == {"201"}
    stored = 0
    for name in await db.list_collection_names():
        if name[0].isupper():
            stored += await db[name].count_documents({})
    assert stored == expected
    refs = await stored_references(db)
    assert len(refs) > 500
    assert not [r for r in refs if r.startswith("urn:")]
    unresolved = []
    for reference in sorted(refs):
        response = await client.get(reference)
        if response.status_code != 200:
            unresolved.append((reference, response.status_code))
    assert unresolved == []
