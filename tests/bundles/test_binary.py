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


async def _asgi(app, method: str, path: str, headers: list[tuple[bytes, bytes]], chunks):
    """Call the app over raw ASGI: the body comes from ``chunks`` one at a time and the
    response body is hashed as it arrives, so neither side of the test holds it whole."""
    import asyncio
    import hashlib

    body = aiter(chunks)
    response = {"status": 0, "headers": {}, "digest": hashlib.sha256(), "size": 0}
    sent, finished = asyncio.Event(), asyncio.Event()

    async def receive():
        if sent.is_set():  # after the body: the client stays until the response is done
            await finished.wait()
            return {"type": "http.disconnect"}
        try:
            chunk = await anext(body)
        except StopAsyncIteration:
            sent.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        if message["type"] == "http.response.start":
            response["status"] = message["status"]
            response["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            response["digest"].update(message.get("body", b""))
            response["size"] += len(message.get("body", b""))
            if not message.get("more_body", False):
                finished.set()

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "server": ("testserver", 80), "client": ("127.0.0.1", 1234)}
    await app(scope, receive, send)
    return response


async def test_upload_and_download_are_streamed_not_buffered(app):
    """A 20 MB Binary passes through the server with a small, bounded memory peak."""
    import hashlib
    import tracemalloc

    size, piece = 20 * 1024 * 1024, 64 * 1024
    expected = hashlib.sha256()

    async def content():
        generator = random.Random(20)
        for _ in range(size // piece):
            chunk = generator.randbytes(piece)
            expected.update(chunk)
            yield chunk

    async def nothing():
        return
        yield

    headers = [(b"content-type", b"application/pdf"),
               (b"content-length", str(size).encode())]

    async def small():
        yield b"warm-up"

    await _asgi(app, "POST", "/fhir/Binary", [(b"content-type", b"text/plain")], small())
    tracemalloc.start()
    try:
        created = await _asgi(app, "POST", "/fhir/Binary", headers, content())
        assert created["status"] == 201
        rid = created["headers"]["location"].split("/Binary/")[1].split("/")[0]
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        read = await _asgi(app, "GET", f"/fhir/Binary/{rid}", [(b"accept", b"*/*")],
                           nothing())
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read["status"] == 200 and read["size"] == size
    assert read["digest"].hexdigest() == expected.hexdigest()
    assert upload_peak < 8 * 1024 * 1024, upload_peak
    assert download_peak < 8 * 1024 * 1024, download_peak
