"""Conditional creates do not race (fhir_server.interactions.conditional): 20 requests with
the same criteria at once make exactly one resource, whichever way the condition is sent
(If-None-Exist, search parameters in the POST URL as fhirpy sends them, a conditional
update, a transaction's ifNoneExist), and also through a real server process."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fhirpy import AsyncFHIRClient

from tests.rest.helpers import assert_outcome, patient

N = 20
MRN = "https://hospital.example.org/mrn"


def _criteria() -> tuple[str, str]:
    value = uuid.uuid4().hex[:12]
    return value, f"identifier={MRN}|{value}"


def _registration(value: str, i: int) -> dict:
    return patient(f"Writer{i}", identifier=[{"system": MRN, "value": value}])


async def _stored_with(db, value: str) -> list[str]:
    docs = db["Patient"].find({"resource.identifier.value": value}, {"_id": 1})
    return [d["_id"] async for d in docs]


def _one_created(responses: list[httpx.Response], created: int = 201) -> str:
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (N - 1) + [created], [r.text[:200] for r in responses]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1, ids
    return ids.pop()


async def test_twenty_if_none_exist_creates_make_one(client, db):
    value, criteria = _criteria()
    responses = await asyncio.gather(*(
        client.post("Patient", json=_registration(value, i), headers={"If-None-Exist": criteria})
        for i in range(N)))
    rid = _one_created(responses)
    assert await _stored_with(db, value) == [rid]
    assert await db["history"].count_documents({"type": "Patient", "id": rid}) == 1


async def test_twenty_posts_with_search_parameters_make_one(client, db):
    value, criteria = _criteria()
    responses = await asyncio.gather(*(
        client.post(f"Patient?{criteria}", json=_registration(value, i)) for i in range(N)))
    rid = _one_created(responses)
    assert await _stored_with(db, value) == [rid]


async def test_twenty_conditional_updates_create_one(client, db):
    value, criteria = _criteria()
    responses = await asyncio.gather(*(
        client.put(f"Patient?{criteria}", json=_registration(value, i)) for i in range(N)))
    assert sorted(r.status_code for r in responses) == [200] * (N - 1) + [201]
    assert len(await _stored_with(db, value)) == 1


async def test_twenty_transactions_with_if_none_exist_make_one(client, db):
    value, criteria = _criteria()

    def bundle(i: int) -> dict:
        return {"resourceType": "Bundle", "type": "transaction", "entry": [{
            "fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": _registration(value, i),
            "request": {"method": "POST", "url": "Patient", "ifNoneExist": criteria}}]}

    responses = await asyncio.gather(*(client.post("", json=bundle(i)) for i in range(N)))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 409}, [r.text[:200] for r in responses]
    entries = [r.json()["entry"][0]["response"]["status"] for r in responses
               if r.status_code == 200]
    assert entries.count("201 Created") == 1, entries
    for loser in (r for r in responses if r.status_code == 409):
        assert_outcome(loser, 409, "send the bundle again")
    assert len(await _stored_with(db, value)) == 1


async def test_post_with_parameters_and_a_differing_header_is_400(client, db):
    value, criteria = _criteria()
    response = await client.post(f"Patient?{criteria}", json=_registration(value, 0),
                                 headers={"If-None-Exist": "identifier=other"})
    assert_outcome(response, 400, "differ")
    assert await _stored_with(db, value) == []


@pytest.mark.slow
async def test_fhirpy_create_with_search_parameters_through_a_real_server(live_server):
    """fhirpy's ``resource.create(identifier=...)`` sends ``POST /Patient?identifier=...``:
    a conditional create, never silently a duplicate."""
    fhir = AsyncFHIRClient(live_server.base, extra_headers={"Accept": "application/fhir+json"})
    value, _ = _criteria()

    async def register(i: int) -> str:
        resource = fhir.resource("Patient", **_registration(value, i))
        await resource.create(identifier=f"{MRN}|{value}")
        return resource["id"]

    ids = await asyncio.gather(*(register(i) for i in range(N)))
    assert len(set(ids)) == 1
    found = await fhir.resources("Patient").search(identifier=f"{MRN}|{value}").fetch_all()
    assert [p["id"] for p in found] == [ids[0]]
