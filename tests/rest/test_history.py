"""history at instance, type and system level with _since, _at, _count and paging
(FHIR R4 http page 3.1.0.11)."""

from __future__ import annotations

import asyncio

from .helpers import assert_outcome, patient


async def _versions(client, rid: str, n: int) -> list[dict]:
    """Create ``rid`` and update it until it has ``n`` versions, a few ms apart."""
    written = [(await client.put(f"Patient/{rid}", json=patient("V1", id=rid))).json()]
    for number in range(2, n + 1):
        await asyncio.sleep(0.005)
        r = await client.put(f"Patient/{rid}", json=patient(f"V{number}", id=rid))
        written.append(r.json())
    return written


async def _all_pages(client, url: str) -> tuple[list[dict], int]:
    entries, pages = [], 0
    while url:
        r = await client.get(url)
        assert r.status_code == 200, r.text
        bundle = r.json()
        assert bundle["resourceType"] == "Bundle" and bundle["type"] == "history"
        entries.extend(bundle.get("entry", []))
        pages += 1
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    return entries, pages


async def test_instance_history_newest_first_with_entry_details(client):
    r = await client.post("Patient", json=patient("V1"))
    rid = r.json()["id"]
    await client.put(f"Patient/{rid}", json=patient("V2", id=rid))
    await client.patch(f"Patient/{rid}", json=[{"op": "replace", "path": "/gender",
                                                "value": "other"}],
                       headers={"Content-Type": "application/json-patch+json"})
    await client.delete(f"Patient/{rid}")
    bundle = (await client.get(f"Patient/{rid}/_history")).json()
    entries = bundle["entry"]
    assert [e["response"]["etag"] for e in entries] == ['W/"4"', 'W/"3"', 'W/"2"', 'W/"1"']
    assert [e["request"]["method"] for e in entries] == ["DELETE", "PATCH", "PUT", "POST"]
    assert [e["request"]["url"] for e in entries] == [f"Patient/{rid}"] * 3 + ["Patient"]
    assert [e["response"]["status"][:3] for e in entries] == ["200", "200", "200", "201"]
    assert "resource" not in entries[0]
    assert [e["resource"]["meta"]["versionId"] for e in entries[1:]] == ["3", "2", "1"]
    assert entries[1]["resource"]["gender"] == "other"
    for entry in entries:
        assert entry["fullUrl"] == f"http://testserver/fhir/Patient/{rid}"
        assert entry["response"]["lastModified"].endswith("Z")
    self_link = bundle["link"][0]
    assert self_link == {"relation": "self",
                         "url": f"http://testserver/fhir/Patient/{rid}/_history"}


async def test_update_as_create_shows_as_created_in_history(client):
    await client.put("Patient/uac", json=patient(id="uac"))
    entry = (await client.get("Patient/uac/_history")).json()["entry"][0]
    assert entry["request"] == {"method": "PUT", "url": "Patient/uac"}
    assert entry["response"]["status"].startswith("201")


async def test_type_and_system_history(client):
    p = (await client.post("Patient", json=patient())).json()["id"]
    o = (await client.post("Observation", json={
        "resourceType": "Observation", "status": "final", "code": {"text": "Hb"}})).json()["id"]
    type_level = (await client.get("Patient/_history")).json()["entry"]
    assert [e["fullUrl"].rsplit("/", 2)[-2:] for e in type_level] == [["Patient", p]]
    system = (await client.get("_history")).json()["entry"]
    assert [e["fullUrl"].rsplit("/", 2)[-2:] for e in system] == [["Observation", o],
                                                                  ["Patient", p]]


async def test_count_and_next_links_walk_every_version_once(client):
    await _versions(client, "walk", 5)
    await client.put("Patient/other", json=patient(id="other"))
    entries, pages = await _all_pages(client, "Patient/walk/_history?_count=2")
    assert pages == 3
    assert [e["resource"]["meta"]["versionId"] for e in entries] == ["5", "4", "3", "2", "1"]
    type_entries, type_pages = await _all_pages(client, "Patient/_history?_count=2")
    assert type_pages == 3 and len(type_entries) == 6
    assert len({(e["fullUrl"], e["response"]["etag"]) for e in type_entries}) == 6
    first = (await client.get("Patient/walk/_history?_count=2")).json()
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "_count=2" in next_url


async def test_since_keeps_versions_written_at_or_after_the_instant(client):
    written = await _versions(client, "since", 4)
    third = written[2]["meta"]["lastUpdated"]
    entries, _ = await _all_pages(client, f"Patient/since/_history?_since={third}")
    assert [e["resource"]["meta"]["versionId"] for e in entries] == ["4", "3"]
    later = (await client.get("Patient/since/_history?_since=2999-01-01T00:00:00Z")).json()
    assert later.get("entry", []) == []
    entries, _ = await _all_pages(client, "_history?_since=2000-01-01")
    assert len(entries) == 4


async def test_at_keeps_versions_current_during_the_period(client):
    written = await _versions(client, "at", 3)
    second = written[1]["meta"]["lastUpdated"]
    entries, _ = await _all_pages(client, f"Patient/at/_history?_at={second}")
    assert [e["resource"]["meta"]["versionId"] for e in entries] == ["2"]
    year = second[:4]
    entries, _ = await _all_pages(client, f"Patient/at/_history?_at={year}")
    assert [e["resource"]["meta"]["versionId"] for e in entries] == ["3", "2", "1"]
    entries, _ = await _all_pages(client, "Patient/at/_history?_at=1999")
    assert entries == []


async def test_history_parameter_errors(client):
    await client.put("Patient/h", json=patient(id="h"))
    assert_outcome(await client.get("Patient/h/_history?_since=yesterday"), 400, "_since")
    assert_outcome(await client.get("Patient/h/_history?_at=2020-13"), 400, "_at")
    assert_outcome(await client.get("Patient/h/_history?_count=many"), 400, "_count")
    assert_outcome(await client.get("Patient/h/_history?name=x"), 400, "name")
    assert_outcome(await client.get("Patient/h/_history?_cursor=garbage"), 400, "cursor")
    assert_outcome(await client.get("Patient/nobody/_history"), 404)
    assert_outcome(await client.post("Patient/h/_history", json={}), 405)
