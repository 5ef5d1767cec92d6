"""Binary (R4 binary.html): raw and FHIR JSON content, GridFS storage, documents."""

from __future__ import annotations

import base64
import random

import pytest

FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture(scope="module")
def twenty_megabytes() -> bytes:
    return random.Random(4).randbytes(20 * 1024 * 1024 + 7)


async def test_raw_round_trip_of_twenty_megabytes_is_byte_exact(client, db, twenty_megabytes):
    created = await client.post("Binary", content=twenty_megabytes,
                                headers={"Content-Type": "application/dicom"})
    assert created.status_code == 201, created.text[:300]
    assert "data" not in created.json()
    rid = created.json()["id"]
    raw = await client.get(f"Binary/{rid}", headers={"Accept": "*/*"})
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/dicom"
    assert raw.content == twenty_megabytes
    as_json = await client.get(f"Binary/{rid}", headers={"Accept": "application/fhir+json"})
    assert as_json.status_code == 200
    assert int(as_json.headers["content-length"]) == len(as_json.content)
    resource = as_json.json()
    assert resource["contentType"] == "application/dicom"
    assert base64.b64decode(resource["data"]) == twenty_megabytes
    stored = await db["Binary"].find_one({"_id": rid})
    assert "data" not in stored["resource"]
    files = await db["binary.files"].find({}).to_list()
    assert len(files) == 1 and files[0]["length"] == len(twenty_megabytes)
    assert await db["binary.chunks"].count_documents({}) > 1


async def test_fhir_json_upload_and_raw_read(client):
    content = b"%PDF-1.4 maternal health report"
    created = await client.post("Binary", json={
        "resourceType": "Binary", "contentType": "application/pdf",
        "securityContext": {"reference": "Patient/mother"},
        "data": base64.b64encode(content).decode()}, headers=FHIR)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    raw = await client.get(f"Binary/{rid}")
    assert raw.content == content
    assert raw.headers["x-security-context"] == "Patient/mother"
    formatted = await client.get(f"Binary/{rid}?_format=json", headers={"Accept": "*/*"})
    assert formatted.json()["data"] == base64.b64encode(content).decode()
    assert formatted.json()["securityContext"] == {"reference": "Patient/mother"}


async def test_put_keeps_old_versions_readable(client):
    first = await client.put("Binary/scan", content=b"version one",
                             headers={"Content-Type": "image/jpeg",
                                      "X-Security-Context": "Patient/p1"})
    assert first.status_code == 201, first.text
    second = await client.put("Binary/scan", content=b"version two",
                              headers={"Content-Type": "image/jpeg", "If-Match": 'W/"1"'})
    assert second.status_code == 200
    assert (await client.get("Binary/scan")).content == b"version two"
    assert (await client.get("Binary/scan/_history/1")).content == b"version one"
    head = await client.head("Binary/scan")
    assert head.status_code == 200 and head.headers["content-length"] == "11"
    cached = await client.get("Binary/scan", headers={"If-None-Match": 'W/"2"'})
    assert cached.status_code == 304


async def test_size_limit_refuses_and_keeps_nothing(client, app, db):
    app.state.services.settings.max_binary_bytes = 1000
    response = await client.post("Binary", content=b"x" * 1001,
                                 headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"
    assert await db["Binary"].count_documents({}) == 0
    assert await db["binary.chunks"].count_documents({}) == 0
    assert await db["binary.files"].count_documents({}) == 0
    too_big_json = await client.post("Binary", json={
        "resourceType": "Binary", "contentType": "text/plain",
        "data": base64.b64encode(b"y" * 1001).decode()}, headers=FHIR)
    assert too_big_json.status_code == 413


async def test_bad_uploads_are_refused(client, db):
    no_type = await client.post("Binary", content=b"abc", headers={"Content-Type": ""})
    assert no_type.status_code == 400
    bad_base64 = await client.post("Binary", json={
        "resourceType": "Binary", "contentType": "text/plain", "data": "not base64!"},
        headers=FHIR)
    assert bad_base64.status_code == 400
    assert await db["Binary"].count_documents({}) == 0
    missing = await client.get("Binary/nope")
    assert missing.status_code == 404


async def test_document_reference_attachment_points_at_binary(client):
    report = b"Antenatal ultrasound report, 20 weeks"
    binary = await client.post("Binary", content=report, headers={"Content-Type": "text/plain"})
    rid = binary.json()["id"]
    document = await client.post("DocumentReference", json={
        "resourceType": "DocumentReference", "status": "current",
        "content": [{"attachment": {"contentType": "text/plain", "url": f"Binary/{rid}"}}]},
        headers=FHIR)
    assert document.status_code == 201, document.text
    url = document.json()["content"][0]["attachment"]["url"]
    followed = await client.get(url, headers={"Accept": "text/plain"})
    assert followed.status_code == 200 and followed.content == report
