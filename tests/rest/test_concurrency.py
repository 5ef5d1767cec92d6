"""Concurrent writes (FHIR R4 http page 3.1.0.5 "Managing Resource Contention"): with the
same If-Match exactly one update wins and the rest get 412; without If-Match every update
gets its own consecutive version; no version is ever lost. Also across two server
processes on one database, since no state may live in process memory."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from ..conftest import LiveServer
from .helpers import patient

N = 8


async def _history_versions(db, rid: str) -> list[int]:
    docs = await db["history"].find({"type": "Patient", "id": rid}).sort("vid").to_list()
    return [d["vid"] for d in docs]


async def test_parallel_updates_with_the_same_if_match_one_wins(client, db):
    await client.put("Patient/race", json=patient(id="race"))
    responses = await asyncio.gather(*(
        client.put("Patient/race", json=patient(f"Writer {i}", id="race"),
                   headers={"If-Match": 'W/"1"'})
        for i in range(N)
    ))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * (N - 1), [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    for loser in (r for r in responses if r.status_code == 412):
        assert loser.json()["resourceType"] == "OperationOutcome"
    current = (await client.get("Patient/race")).json()
    assert current == winner and current["meta"]["versionId"] == "2"
    assert await _history_versions(db, "race") == [1, 2]


async def test_parallel_updates_without_if_match_all_get_versions(client, db):
    await client.put("Patient/busy", json=patient(id="busy"))
    responses = await asyncio.gather(*(
        client.put("Patient/busy", json=patient(f"Writer {i}", id="busy")) for i in range(N)
    ))
    assert [r.status_code for r in responses] == [200] * N, [r.text for r in responses]
    versions = sorted(int(r.json()["meta"]["versionId"]) for r in responses)
    assert versions == list(range(2, N + 2))
    assert await _history_versions(db, "busy") == list(range(1, N + 2))
    families = {r.json()["meta"]["versionId"]: r.json()["name"][0]["family"] for r in responses}
    for vid, family in families.items():
        old = (await client.get(f"Patient/busy/_history/{vid}")).json()
        assert old["name"][0]["family"] == family
    current = (await client.get("Patient/busy")).json()
    assert current["meta"]["versionId"] == str(N + 1)


async def test_parallel_patches_without_if_match_apply_every_change(client):
    await client.put("Patient/pp", json=patient(id="pp", identifier=[{"value": "id-0"}]))
    patches = await asyncio.gather(*(
        client.patch("Patient/pp", json=[{"op": "add", "path": "/identifier/-",
                                          "value": {"value": f"id-{i}"}}],
                     headers={"Content-Type": "application/json-patch+json"})
        for i in range(1, N)
    ))
    assert [r.status_code for r in patches] == [200] * (N - 1), [r.text for r in patches]
    assert sorted(int(r.json()["meta"]["versionId"]) for r in patches) == list(range(2, N + 1))
    identifiers = (await client.get("Patient/pp")).json()["identifier"]
    assert sorted(i["value"] for i in identifiers) == sorted(f"id-{i}" for i in range(N))


async def test_parallel_update_as_create_of_one_id(client, db):
    responses = await asyncio.gather(*(
        client.put("Patient/fresh", json=patient(f"Writer {i}", id="fresh")) for i in range(N)
    ))
    assert sorted(r.status_code for r in responses) == [200] * (N - 1) + [201]
    assert await _history_versions(db, "fresh") == list(range(1, N + 1))


@pytest.mark.slow
async def test_two_server_processes_on_one_database_behave_as_one(mongodb_uri, mongo_client):
    database = f"two_{uuid.uuid4().hex[:8]}"
    first = LiveServer(mongodb_uri, database)
    second = LiveServer(mongodb_uri, database)
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            created = await http.put(f"{first.base}/Patient/shared", json=patient(id="shared"))
            assert created.status_code == 201, created.text
            servers = [first, second] * (N // 2)
            responses = await asyncio.gather(*(
                http.put(f"{server.base}/Patient/shared",
                         json=patient(f"Writer {i}", id="shared"),
                         headers={"If-Match": 'W/"1"'})
                for i, server in enumerate(servers)
            ))
            assert sorted(r.status_code for r in responses) == [200] + [412] * (N - 1)
            plain = await asyncio.gather(*(
                http.put(f"{server.base}/Patient/shared",
                         json=patient(f"Plain {i}", id="shared"))
                for i, server in enumerate(servers)
            ))
            assert [r.status_code for r in plain] == [200] * N
            assert sorted(int(r.json()["meta"]["versionId"]) for r in plain) == list(
                range(3, N + 3))
            seen_by_second = await http.get(f"{second.base}/Patient/shared/_history?_count=100")
            assert len(seen_by_second.json()["entry"]) == N + 2
    finally:
        first.stop()
        second.stop()
        await mongo_client.drop_database(database)
