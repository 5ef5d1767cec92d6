"""A token's query filter, run in MongoDB, shows exactly what its single-resource rule
shows: same compartment (and no other patient's), same hidden types, same per-type scopes
(for the searched type and for ``_include`` targets alike)."""

from __future__ import annotations

import pytest

from fhir_server.access.identity import AccessContext
from fhir_server.access.scopes import parse_scopes
from fhir_server.access.token import TokenRules
from fhir_server.storage.filters import MATCH_NOTHING
from tests.conftest import database_of

from .conftest import BASE, observation, patient, put

RESOURCES = [
    patient("p1"), patient("p2"),
    {"resourceType": "Patient", "id": "p3",
     "link": [{"other": {"reference": "Patient/p1"}, "type": "seealso"}]},
    observation("o1", "p1"), observation("o2", "p2"),
    observation("o3", "p2", performer="Patient/p1"),
    {**observation("o4", "x"), "subject": {"reference": f"{BASE}/Patient/p1"}},
    {**observation("o5", "x"), "subject": {"reference": "Patient/p1/_history/3"}},
    {**observation("o6", "x"), "subject": {"reference": "Patient/p10"}},
    {**observation("o7", "x"), "subject": {"reference": "https://other.example/Patient/p1"}},
    {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}},
    {"resourceType": "Condition", "id": "c2", "subject": {"reference": "Patient/p2"}},
    {"resourceType": "Encounter", "id": "e1", "status": "finished",
     "class": {"code": "AMB"}, "subject": {"reference": "Patient/p1"}},
    {"resourceType": "Practitioner", "id": "dr"},
    {"resourceType": "Organization", "id": "org"},
    {"resourceType": "Bundle", "id": "b1", "type": "collection"},
]


def context(scope: str, *, patient_id: str | None = None, fhir_user: str | None = None,
            kind: str = "user") -> AccessContext:
    return AccessContext(client_id="app", scopes=parse_scopes(scope), kind=kind,
                         subject="s", issuer="i", expires_at=0, fhir_user=fhir_user,
                         patient=patient_id)


@pytest.fixture
async def stored(repository):
    return [await put(repository, resource) for resource in RESOURCES]


@pytest.mark.parametrize("ctx", [
    context("patient/*.rs", patient_id="p1"),
    context("patient/*.rs", patient_id="p2"),
    context("patient/Observation.rs patient/Patient.r", patient_id="p1"),
    context("patient/Observation.rs user/Condition.rs", patient_id="p1",
            fhir_user="Practitioner/dr"),
    context("user/*.rs", fhir_user="Patient/p1"),
    context("user/Observation.rs patient/Condition.rs", fhir_user="Patient/p2",
            patient_id="p1"),
    context("system/Observation.rs system/Practitioner.rs", kind="backend"),
    context("patient/*.rs", kind="backend", patient_id="p1"),
    context("openid fhirUser", fhir_user="Patient/p1"),
], ids=lambda c: f"{c.kind}:{c.scopes}:{c.patient}:{c.fhir_user}")
async def test_filter_agrees_with_single_resource_rule(smart_app, stored, ctx):
    db = database_of(smart_app)
    rules = TokenRules(ctx, BASE, _no_queries)
    found = set()
    restricted = False
    for resource_type in sorted({r["resourceType"] for r in stored}):
        condition = await rules.filter(resource_type)
        restricted |= condition is not None
        if condition == MATCH_NOTHING:
            continue
        async for doc in db[resource_type].find(condition or {}, {"_id": 1}):
            found.add((resource_type, doc["_id"]))
    expected = {(r["resourceType"], r["id"]) for r in stored
                if rules.visible(r, "s") or rules.visible(r, "r")}
    assert restricted and found == expected


async def _no_queries(resource_type: str, params: list) -> dict:
    raise AssertionError("no v2 query restriction in these scopes")


async def test_unrestricted_tokens_need_no_filter():
    for ctx in (context("system/*.rs", kind="backend"),
                context("user/*.read", fhir_user="Practitioner/dr")):
        rules = TokenRules(ctx, BASE, _no_queries)
        assert [await rules.filter(t) for t in ("Patient", "Observation", "Binary")] == [
            None, None, None]


async def test_patient_filter_details(smart_app, stored):
    """p1's compartment (relative, absolute and versioned references), but nothing that is
    also another patient's (o3 has p2 as subject, p3 links to p1): that would tell p1
    about them."""
    db = database_of(smart_app)
    rules = TokenRules(context("patient/*.rs", patient_id="p1"), BASE, _no_queries)

    async def ids(resource_type: str) -> set[str]:
        condition = await rules.filter(resource_type)
        if condition == MATCH_NOTHING:
            return set()
        return {d["_id"] async for d in db[resource_type].find(condition or {})}

    assert await ids("Observation") == {"o1", "o4", "o5"}
    assert await ids("Patient") == {"p1"}
    assert await ids("Bundle") == set()
    assert await ids("Practitioner") == {"dr"}
