"""The search restriction filter, run in MongoDB, shows exactly what the single-resource
rule shows: same compartment, same hidden types, same per-type scopes (for the searched
type and for ``_include`` targets alike)."""

from __future__ import annotations

import pytest
from fhir_server.auth.enforce import visible
from fhir_server.auth.restriction import token_restriction

from fhir_server.auth.context import AccessContext
from fhir_server.auth.scopes import parse_scopes

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
    db = smart_app.state.services.db
    search = smart_app.state.services.search
    restriction = await token_restriction(ctx, search)
    assert restriction is not None
    found = set()
    for resource_type in sorted({r["resourceType"] for r in stored}):
        async for doc in db[resource_type].find(restriction, {"_id": 1}):
            found.add((resource_type, doc["_id"]))
    expected = {(r["resourceType"], r["id"]) for r in stored
                if visible(ctx, "s", r, BASE) or visible(ctx, "r", r, BASE)}
    assert found == expected


async def test_unrestricted_tokens_need_no_filter():
    assert await token_restriction(context("system/*.rs", kind="backend"), None) is None
    assert await token_restriction(context("user/*.read", fhir_user="Practitioner/dr"),
                                   None) is None


async def test_patient_filter_details(smart_app, stored):
    db = smart_app.state.services.db
    restriction = await token_restriction(context("patient/*.rs", patient_id="p1"), None)
    observations = {d["_id"] async for d in db["Observation"].find(restriction)}
    assert observations == {"o1", "o3", "o4", "o5"}
    patients = {d["_id"] async for d in db["Patient"].find(restriction)}
    assert patients == {"p1", "p3"}
    assert [d["_id"] async for d in db["Bundle"].find(restriction)] == []
    assert [d["_id"] async for d in db["Practitioner"].find(restriction)] == ["dr"]
