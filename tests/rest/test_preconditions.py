"""Version-aware requests: If-Match on writes (412) and If-None-Match / If-Modified-Since on
read (304); FHIR R4 http page 3.1.0.5 (Managing Resource Contention) and 3.1.0.2 (read)."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

from .helpers import assert_outcome, patient


async def test_update_if_match(client, db):
    await client.put("Patient/p", json=patient("One", id="p"))
    stale = await client.put("Patient/p", json=patient("Two", id="p"),
                             headers={"If-Match": 'W/"2"'})
    assert_outcome(stale, 412, 'W/"1"')
    assert (await client.get("Patient/p")).json()["name"][0]["family"] == "One"
    for tag in ('W/"1"', '"2"'):
        ok = await client.put("Patient/p", json=patient(f"Tag {tag}", id="p"),
                              headers={"If-Match": tag})
        assert ok.status_code == 200, ok.text
    assert (await client.get("Patient/p")).headers["etag"] == 'W/"3"'
    assert await db["history"].count_documents({"id": "p"}) == 3


async def test_if_match_on_a_missing_resource_is_404_and_creates_nothing(client, db):
    """404 as for any resource that is not there (a hidden one answers the same)."""
    r = await client.put("Patient/new", json=patient(id="new"), headers={"If-Match": 'W/"1"'})
    assert_outcome(r, 404, "Patient/new is not known")
    assert await db["Patient"].count_documents({}) == 0


async def test_malformed_if_match_is_400(client):
    await client.put("Patient/p", json=patient(id="p"))
    r = await client.put("Patient/p", json=patient(id="p"), headers={"If-Match": "version one"})
    assert_outcome(r, 400, "If-Match")


async def test_delete_if_match(client):
    await client.put("Patient/p", json=patient(id="p"))
    assert_outcome(await client.delete("Patient/p", headers={"If-Match": 'W/"5"'}), 412)
    assert (await client.get("Patient/p")).status_code == 200
    ok = await client.delete("Patient/p", headers={"If-Match": 'W/"1"'})
    assert ok.status_code == 200
    assert (await client.get("Patient/p")).status_code == 410


async def test_if_none_match_on_read(client):
    await client.put("Patient/p", json=patient(id="p"))
    current = await client.get("Patient/p", headers={"If-None-Match": 'W/"1"'})
    assert current.status_code == 304
    assert current.content == b""
    assert current.headers["etag"] == 'W/"1"'
    assert (await client.get("Patient/p", headers={"If-None-Match": "*"})).status_code == 304
    assert (await client.get("Patient/p", headers={"If-None-Match": 'W/"0", W/"1"'})
            ).status_code == 304
    await client.put("Patient/p", json=patient("Changed", id="p"))
    changed = await client.get("Patient/p", headers={"If-None-Match": 'W/"1"'})
    assert changed.status_code == 200
    assert changed.json()["name"][0]["family"] == "Changed"


async def test_if_modified_since_on_read(client):
    await client.put("Patient/p", json=patient(id="p"))
    first = await client.get("Patient/p")
    modified = first.headers["last-modified"]
    unchanged = await client.get("Patient/p", headers={"If-Modified-Since": modified})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    earlier = format_datetime(parsedate_to_datetime(modified) - timedelta(hours=1), usegmt=True)
    assert (await client.get("Patient/p", headers={"If-Modified-Since": earlier})
            ).status_code == 200
    ignored = await client.get("Patient/p", headers={"If-Modified-Since": "not a date"})
    assert ignored.status_code == 200
