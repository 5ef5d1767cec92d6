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


def conditional(bundle):
    """The Bundle with its Organizations and Practitioners created only if absent, by
    identifier (as newer Synthea versions write them)."""
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] in ("Organization", "Practitioner"):
            identifier = resource["identifier"][0]
            entry["request"]["ifNoneExist"] = (
                f"identifier={identifier['system']}|{identifier['value']}")
    return bundle


async def test_shared_organizations_and_practitioners_are_not_duplicated(client, db):
    sharing = [p for p in BUNDLES if p.name.startswith(("Shavonne_", "Maximina_"))]
    assert len(sharing) == 2  # they share one Organization and one Practitioner
    shared: dict[str, set[str]] = {"Organization": set(), "Practitioner": set()}
    sent = 0
    for path in sharing:
        bundle = conditional(load(path))
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] in shared:
                identifier = resource["identifier"][0]
                shared[resource["resourceType"]].add(
                    f"{identifier['system']}|{identifier['value']}")
        response = await client.post("", json=bundle, headers=FHIR)
        assert response.status_code == 200, f"{path.name}: {response.text[:300]}"
        sent += sum(1 for e in bundle["entry"] if e["resource"]["resourceType"] in shared)
    assert sent == sum(len(ids) for ids in shared.values()) + 2
    for resource_type, identifiers in shared.items():
        assert await db[resource_type].count_documents({}) == len(identifiers)
    refs = await stored_references(db)
    for reference in [r for r in refs if r.startswith(("Organization/", "Practitioner/"))]:
        assert (await client.get(reference)).status_code == 200, reference
