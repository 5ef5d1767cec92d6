"""Every non-2xx response is an OperationOutcome; bad input is a clear 4xx, never a 500 and
never a partial write; input never reaches MongoDB as an operator (FHIR R4 http page
3.1.0.1.8 and operationoutcome.html)."""

from __future__ import annotations

import httpx
import pytest

from fhir_server.config import Settings
from fhir_server.rest.app import create_app

from .helpers import FHIR_JSON, assert_outcome, patient


async def _snapshot(db) -> dict[str, list]:
    """Everything stored, to prove that a request changed nothing (but the subscription
    dispatcher's lease, which every server process renews in the background)."""
    names = sorted(set(await db.list_collection_names()) - {"subscription_leases"})
    return {name: await db[name].find().sort("_id").to_list() for name in names}


@pytest.mark.parametrize(("body", "words"), [
    (b'{"resourceType": "Patient",', "malformed json"),
    (b"{'resourceType': 'Patient'}", "malformed json"),
    (b'{"resourceType":"Patient","gender":"female","gender":"male"}', "duplicate"),
    (b'{"resourceType":"Patient","multipleBirthInteger":NaN}', "nan"),
    (b'\xff\xfe{"resourceType":"Patient"}', "utf-8"),
    (b"", "empty"),
    (b"   ", "empty"),
    (b"[]", "json object"),
    (b'[{"resourceType":"Patient"}]', "json object"),
    (b'"Patient"', "json object"),
    (b"42", "json object"),
    (b"null", "json object"),
    (b'{"name":[{"family":"X"}]}', "resourcetype"),
    (b"[" * 100_000 + b"]" * 100_000, "json"),
])
async def test_bad_bodies_are_400(client, db, body, words):
    before = await _snapshot(db)
    assert_outcome(await client.post("Patient", content=body, headers=FHIR_JSON), 400, words)
    assert_outcome(await client.put("Patient/p", content=body, headers=FHIR_JSON), 400)
    assert await _snapshot(db) == before


async def test_server_owned_fields_must_have_the_right_shape(client, db):
    before = await _snapshot(db)
    for bad in ({"meta": "v1"}, {"meta": ["x"]}, {"resourceType": {"$ne": None}},
                {"resourceType": 7}):
        body = {**patient(id="p"), **bad}
        assert_outcome(await client.put("Patient/p", json=body), 400)
        assert_outcome(await client.post("Patient", json=body), 400)
    assert_outcome(await client.put("Patient/p", json={**patient(), "id": {"$ne": None}}), 400)
    assert await _snapshot(db) == before


@pytest.mark.parametrize("content_type", [
    None, "text/plain", "application/xml", "application/fhir+xml",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
])
async def test_wrong_content_type_is_415(client, db, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"resourceType":"Patient"}'
    assert_outcome(await client.post("Patient", content=body, headers=headers), 415,
                   "content-type")
    assert_outcome(await client.put("Patient/p", content=body, headers=headers), 415)
    assert await db["Patient"].count_documents({}) == 0


@pytest.mark.parametrize("content_type", [
    "application/fhir+json", "application/json", "application/fhir+json; charset=utf-8",
    "application/json+fhir", "application/fhir+json;fhirVersion=4.0",
])
async def test_json_content_types_are_accepted(client, content_type):
    r = await client.post("Patient", content=b'{"resourceType":"Patient"}',
                          headers={"Content-Type": content_type})
    assert r.status_code == 201, r.text


async def test_body_over_the_limit_is_413_and_nothing_is_stored(mongo_client, database_name,
                                                               mongodb_uri):
    settings = Settings(database=database_name, mongodb_uri=mongodb_uri,
                        base_url="http://testserver/fhir", max_body_bytes=2048)
    app = create_app(settings, mongo_client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://testserver/fhir/") as client:
            fits = patient(text={"status": "generated",
                                 "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">ok</div>"})
            assert (await client.post("Patient", json=fits)).status_code == 201
            big = patient(name=[{"family": "X" * 3000}])
            assert_outcome(await client.post("Patient", json=big), 413, "2048")
            assert_outcome(await client.put("Patient/big", json={**big, "id": "big"}), 413)

            async def chunks():
                payload = b'{"resourceType":"Patient","name":[{"family":"' + b"Y" * 4000 + b'"}]}'
                for start in range(0, len(payload), 500):
                    yield payload[start:start + 500]

            streamed = await client.post("Patient", content=chunks(), headers=FHIR_JSON)
            assert "content-length" not in streamed.request.headers
            assert_outcome(streamed, 413, "limit")
            db = mongo_client[database_name]
            assert await db["Patient"].count_documents({}) == 1
    await mongo_client.drop_database(database_name)


def test_the_body_limit_has_an_environment_twin(monkeypatch):
    monkeypatch.setenv("FHIR_MAX_BODY_BYTES", "12345")
    assert Settings().max_body_bytes == 12345


@pytest.mark.parametrize(("method", "path"), [
    ("DELETE", "metadata"), ("POST", "Patient/p"), ("PUT", "Patient/_history"),
    ("DELETE", "_history"), ("OPTIONS", "Patient"), ("TRACE", "Patient/p"),
    ("POST", "Patient/p/_history/1"), ("PATCH", "metadata"), ("PUT", ""),
])
async def test_unsupported_interactions_are_405(client, method, path):
    r = await client.request(method, path, content=b"{}", headers=FHIR_JSON)
    assert_outcome(r, 405, method)
    assert r.headers["allow"]


async def test_unknown_paths_and_types_are_404(client):
    assert_outcome(await client.get("Patinet"), 404, "Patinet")
    assert_outcome(await client.delete("Patinet/1"), 404, "Patinet")
    assert_outcome(await client.get("Patient/p/frob"), 404)
    assert_outcome(await client.get("Patient/$nothing"), 404, "$nothing")
    assert_outcome(await client.get("http://testserver/"), 404, "fhir base")
    assert_outcome(await client.get("http://testserver/fhirx/Patient"), 404, "fhir base")


async def test_operator_strings_in_bodies_are_data(client, db):
    hostile = patient(
        id="h",
        name=[{"family": "$where", "given": ["{\"$ne\": null}", "$gt", "this.a == 1"]}],
        identifier=[{"system": "urn:x", "value": "$regex"}],
    )
    r = await client.put("Patient/h", json=hostile)
    assert r.status_code == 201, r.text
    read = (await client.get("Patient/h")).json()
    assert read["name"] == hostile["name"]
    assert read["identifier"] == hostile["identifier"]
    stored = await db["Patient"].find_one({"_id": "h"})
    assert stored["resource"]["name"][0]["family"] == "$where"


async def test_operator_shaped_ids_query_strings_and_headers_change_nothing(client, db):
    await client.put("Patient/a", json=patient(id="a"))
    await client.put("Patient/b", json=patient(id="b"))
    before = await _snapshot(db)
    attempts = [
        client.get("Patient/%7B%22%24ne%22%3Anull%7D"),
        client.delete("Patient/%7B%22%24ne%22%3Anull%7D"),
        client.put("Patient/%24ne", json=patient(id="$ne")),
        client.delete("Patient?_id=%7B%22%24ne%22%3Anull%7D"),
        client.delete("Patient?_id[$ne]=nobody"),
        client.delete("Patient?_id=$ne"),
        client.put("Patient?_id=%7B%22%24ne%22%3A%22x%22%7D", json=patient(id="a"),
                   headers={"If-Match": 'W/"7"'}),
        client.get("Patient/a/_history?_count=%7B%22%24gt%22%3A0%7D"),
        client.get("Patient/a/_history?_since[$gt]=2000"),
        client.get("_history?_since=%7B%22%24gt%22%3A%22%22%7D"),
        client.get("Patient/a", headers={"If-None-Match": '{"$ne": null}'}),
        client.put("Patient/a", json=patient(id="a"), headers={"If-Match": '{"$ne": 0}'}),
        client.delete("Patient/a", headers={"If-Match": '{"$gt": 0}'}),
        client.post("Patient", json=patient(), headers={"If-None-Exist": "_id[$ne]=zzz"}),
        client.get("Patient/a/_history?_cursor=WyJ7XCIkbmVcIjogbnVsbH0iLCB7IiRuZSI6IG51bGx9XQ"),
    ]
    for attempt in attempts:
        r = await attempt
        assert r.status_code in (200, 304, 400, 404, 412), r.text
        if r.status_code >= 400:
            assert r.json()["resourceType"] == "OperationOutcome"
        if r.status_code == 200 and r.json().get("resourceType") == "Bundle":
            assert len(r.json().get("entry", [])) <= 2
    assert await _snapshot(db) == before


@pytest.mark.parametrize(("path", "headers"), [
    ("Patient/a/_history/%C2%B2", {}),
    ("Patient/a/_history/99999999999999999999999", {}),
    ("Patient/a/_history?_count=%C2%B2", {}),
    ("Patient/a/_history?_count=99999999999999999999999", {}),
    ("Patient/a", {"If-None-Match": 'W/"99999999999999999999999"'}),
])
async def test_odd_numbers_in_urls_and_headers_are_400(client, path, headers):
    await client.put("Patient/a", json=patient(id="a"))
    r = await client.get(path, headers=headers)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert r.json()["resourceType"] == "OperationOutcome"


async def test_huge_if_match_is_400(client):
    await client.put("Patient/a", json=patient(id="a"))
    r = await client.put("Patient/a", json=patient(id="a"),
                         headers={"If-Match": 'W/"99999999999999999999999"'})
    assert_outcome(r, 400, "If-Match")
