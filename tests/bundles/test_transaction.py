"""Transaction Bundles (R4 http.html#transaction): atomicity, order, references."""

from __future__ import annotations

from .helpers import bundle, entry, observation, patient, state, urn

FHIR = {"Content-Type": "application/fhir+json"}


async def post_bundle(client, body, **headers):
    return await client.post("", json=body, headers={**FHIR, **headers})


async def test_creates_and_resolves_urn_uuid_references(client):
    p, o = urn(), urn()
    response = await post_bundle(client, bundle(
        "transaction",
        entry("POST", "Observation", observation(p), o),
        entry("POST", "Patient", patient(), p),
    ))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["type"] == "transaction-response"
    first, second = result["entry"]
    assert first["response"]["status"].startswith("201")
    assert second["response"]["status"].startswith("201")
    patient_location = second["response"]["location"]
    assert patient_location.startswith("Patient/") and patient_location.endswith("/_history/1")
    assert second["response"]["etag"] == 'W/"1"'
    assert "lastModified" in second["response"]
    patient_ref = "/".join(patient_location.split("/")[:2])
    stored = (await client.get("/".join(first["response"]["location"].split("/")[:2]))).json()
    assert stored["subject"]["reference"] == patient_ref
    assert (await client.get(patient_ref)).status_code == 200


async def test_a_failing_entry_leaves_the_database_unchanged(client, db):
    await client.put("Patient/keep", json=patient("Before", id="keep"), headers=FHIR)
    before = await state(db)
    failing = urn()
    response = await post_bundle(client, bundle(
        "transaction",
        entry("DELETE", "Patient/keep"),
        entry("POST", "Patient", patient("New"), urn()),
        entry("PUT", "Patient/other", patient("Other", id="other")),
        entry("PUT", "Patient/ghost", patient("Ghost", id="ghost"), failing, ifMatch='W/"3"'),
    ))
    assert response.status_code == 404, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    diagnostics = outcome["issue"][0]["diagnostics"]
    assert "Bundle.entry[3]" in diagnostics and failing in diagnostics
    assert await state(db) == before
    kept = await client.get("Patient/keep")
    assert kept.status_code == 200 and kept.json()["name"][0]["family"] == "Before"
    assert (await client.get("Patient/other")).status_code == 404


async def test_invalid_resource_rolls_back_and_names_the_entry(client, db):
    before = await state(db)
    response = await post_bundle(client, bundle(
        "transaction",
        entry("POST", "Patient", patient(), urn()),
        entry("POST", "Observation", {"resourceType": "Patient"}, "urn:uuid:bad-one"),
    ))
    assert response.status_code == 400
    assert "Bundle.entry[1] (urn:uuid:bad-one)" in response.json()["issue"][0]["diagnostics"]
    assert await state(db) == before


async def test_unresolvable_placeholder_reference_is_refused(client, db):
    before = await state(db)
    response = await post_bundle(client, bundle(
        "transaction", entry("POST", "Observation", observation(urn()), urn())))
    assert response.status_code == 400
    assert "names no entry" in response.text
    assert await state(db) == before


async def test_processing_order_delete_post_put_get(client):
    await client.put("Patient/a", json=patient("Old", id="a"), headers=FHIR)
    response = await post_bundle(client, bundle(
        "transaction",
        entry("GET", "Patient/a"),
        entry("PUT", "Patient/a", patient("New", id="a")),
        entry("GET", "Patient/b"),
        entry("DELETE", "Patient/b"),
        entry("POST", "Patient", patient("Created"), urn()),
    ))
    assert response.status_code == 200, response.text
    read_a, put_a, read_b, delete_b, post = response.json()["entry"]
    assert read_a["resource"]["name"][0]["family"] == "New"
    assert read_a["resource"]["meta"]["versionId"] == "2"
    assert put_a["response"]["status"].startswith("200")
    assert read_b["response"]["status"].startswith("404")
    assert delete_b["response"]["status"].startswith("204")
    assert post["response"]["status"].startswith("201")


async def test_put_creates_with_client_id_and_updates_with_if_match(client):
    first = await post_bundle(client, bundle(
        "transaction", entry("PUT", "Patient/p1", patient("One", id="p1"))))
    assert first.json()["entry"][0]["response"]["status"].startswith("201")
    second = await post_bundle(client, bundle(
        "transaction", entry("PUT", "Patient/p1", patient("Two", id="p1"), ifMatch='W/"1"')))
    assert second.status_code == 200, second.text
    assert second.json()["entry"][0]["response"]["etag"] == 'W/"2"'
    stale = await post_bundle(client, bundle(
        "transaction", entry("PUT", "Patient/p1", patient("Three", id="p1"), ifMatch='W/"1"')))
    assert stale.status_code == 412
    assert (await client.get("Patient/p1")).json()["name"][0]["family"] == "Two"


async def test_puts_of_several_types_continue_each_resource_s_versions(client):
    """The versions a transaction's PUTs replace are read for all types together: a new
    id starts at 1, a stored one goes on, a deleted one goes on after its deletion."""
    await client.put("Patient/kept", json=patient("Kept", id="kept"), headers=FHIR)
    await client.put("Observation/gone", json=observation("Patient/kept", id="gone"),
                     headers=FHIR)
    assert (await client.delete("Observation/gone")).status_code in (200, 204)
    response = await post_bundle(client, bundle(
        "transaction",
        entry("PUT", "Patient/kept", patient("Changed", id="kept")),
        entry("PUT", "Observation/gone", observation("Patient/kept", id="gone")),
        entry("PUT", "Patient/fresh", patient("Fresh", id="fresh")),
        entry("PUT", "Observation/fresh", observation("Patient/fresh", id="fresh")),
    ))
    assert response.status_code == 200, response.text
    assert [(e["response"]["status"][:3], e["response"]["etag"])
            for e in response.json()["entry"]] == [
        ("200", 'W/"2"'), ("201", 'W/"3"'), ("201", 'W/"1"'), ("201", 'W/"1"')]
    assert (await client.get("Observation/gone")).json()["meta"]["versionId"] == "3"


async def test_put_if_none_match_star_only_creates(client):
    await client.put("Patient/p2", json=patient(id="p2"), headers=FHIR)
    response = await post_bundle(client, bundle(
        "transaction", entry("PUT", "Patient/p2", patient("X", id="p2"), ifNoneMatch="*")))
    assert response.status_code == 412


async def test_get_entries_honour_if_none_match_and_if_modified_since(client):
    await client.put("Patient/p3", json=patient(id="p3"), headers=FHIR)
    response = await post_bundle(client, bundle(
        "transaction",
        entry("GET", "Patient/p3", ifNoneMatch='W/"1"'),
        entry("GET", "Patient/p3", ifNoneMatch='W/"7"'),
        entry("GET", "Patient/p3", ifModifiedSince="Fri, 01 Jan 2100 00:00:00 GMT"),
        entry("GET", "Patient/p3", ifModifiedSince="Mon, 01 Jan 2001 00:00:00 GMT"),
    ))
    statuses = [e["response"]["status"][:3] for e in response.json()["entry"]]
    assert statuses == ["304", "200", "304", "200"]


async def test_if_none_exist_reuses_the_match_and_links_to_it(client, db):
    await client.put("Patient/known", json=patient(id="known"), headers=FHIR)
    p = urn()
    response = await post_bundle(client, bundle(
        "transaction",
        entry("POST", "Patient", patient("Dup"), p, ifNoneExist="_id=known"),
        entry("POST", "Observation", observation(p), urn()),
    ))
    assert response.status_code == 200, response.text
    conditional, created = response.json()["entry"]
    assert conditional["response"]["status"].startswith("200")
    assert conditional["response"]["location"] == "Patient/known/_history/1"
    assert await db["Patient"].count_documents({}) == 1
    obs = (await client.get("/".join(created["response"]["location"].split("/")[:2]))).json()
    assert obs["subject"]["reference"] == "Patient/known"


async def test_conditional_references(client, db):
    await client.put("Patient/c1", json=patient(id="c1"), headers=FHIR)
    await client.put("Patient/c2", json=patient(id="c2"), headers=FHIR)
    found = await post_bundle(client, bundle(
        "transaction", entry("POST", "Observation", observation("Patient?_id=c1"), urn())))
    assert found.status_code == 200, found.text
    location = found.json()["entry"][0]["response"]["location"]
    obs = (await client.get("/".join(location.split("/")[:2]))).json()
    assert obs["subject"]["reference"] == "Patient/c1"
    none = await post_bundle(client, bundle(
        "transaction", entry("POST", "Observation", observation("Patient?_id=zz"), urn())))
    assert none.status_code == 404
    many = await post_bundle(client, bundle(
        "transaction", entry("POST", "Observation", observation("Patient?_id=c1,c2"), urn())))
    assert many.status_code == 412
    assert await db["Observation"].count_documents({}) == 1


async def test_conditional_reference_to_a_conditional_create_in_the_bundle(client):
    response = await post_bundle(client, bundle(
        "transaction",
        entry("POST", "Observation", observation("Patient?_id=fresh"), urn()),
        entry("POST", "Patient", patient(), urn(), ifNoneExist="Patient?_id=fresh"),
    ))
    assert response.status_code == 200, response.text
    obs_entry, patient_entry = response.json()["entry"]
    patient_ref = "/".join(patient_entry["response"]["location"].split("/")[:2])
    obs = (await client.get("/".join(obs_entry["response"]["location"].split("/")[:2]))).json()
    assert obs["subject"]["reference"] == patient_ref


async def test_links_in_narrative_and_attachment_urls_are_rewritten(client):
    p, b = urn(), urn()
    document = {
        "resourceType": "DocumentReference", "status": "current",
        "subject": {"reference": p},
        "text": {"status": "generated",
                 "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><a href="{p}">patient</a>'
                        "</div>"},
        "content": [{"attachment": {"contentType": "text/plain", "url": b}}],
    }
    response = await post_bundle(client, bundle(
        "transaction",
        entry("POST", "DocumentReference", document, urn()),
        entry("POST", "Patient", patient(), p),
        entry("POST", "Binary", {"resourceType": "Binary", "contentType": "text/plain",
                                 "data": "aGVsbG8="}, b),
    ))
    assert response.status_code == 200, response.text
    doc_entry, patient_entry, binary_entry = response.json()["entry"]
    patient_ref = "/".join(patient_entry["response"]["location"].split("/")[:2])
    binary_ref = "/".join(binary_entry["response"]["location"].split("/")[:2])
    doc = (await client.get("/".join(doc_entry["response"]["location"].split("/")[:2]))).json()
    assert doc["subject"]["reference"] == patient_ref
    assert f'href="{patient_ref}"' in doc["text"]["div"]
    assert doc["content"][0]["attachment"]["url"] == binary_ref
    content = await client.get(binary_ref, headers={"Accept": "*/*"})
    assert content.content == b"hello"


async def test_relative_references_resolve_against_restful_full_urls(client):
    response = await post_bundle(client, bundle(
        "transaction",
        entry("POST", "Observation", observation("Patient/temp1"),
              "http://other.example/fhir/Observation/o1"),
        entry("POST", "Patient", patient(), "http://other.example/fhir/Patient/temp1"),
    ))
    assert response.status_code == 200, response.text
    obs_entry, patient_entry = response.json()["entry"]
    patient_ref = "/".join(patient_entry["response"]["location"].split("/")[:2])
    assert patient_ref != "Patient/temp1"
    obs = (await client.get("/".join(obs_entry["response"]["location"].split("/")[:2]))).json()
    assert obs["subject"]["reference"] == patient_ref


async def test_a_resource_may_be_written_once_per_bundle(client):
    response = await post_bundle(client, bundle(
        "transaction",
        entry("PUT", "Patient/twice", patient(id="twice")),
        entry("DELETE", "Patient/twice"),
    ))
    assert response.status_code == 400
    assert "only once" in response.text


async def test_prefer_representation_returns_resources(client):
    response = await post_bundle(client, bundle(
        "transaction", entry("POST", "Patient", patient("Shown"), urn())),
        Prefer="return=representation")
    created = response.json()["entry"][0]
    assert created["resource"]["name"][0]["family"] == "Shown"
    assert created["fullUrl"].endswith(created["resource"]["id"])


async def test_patch_entry_with_json_patch(client):
    import base64
    import json

    await client.put("Patient/pp", json=patient("Before", id="pp"), headers=FHIR)
    operations = [{"op": "replace", "path": "/name/0/family", "value": "After"}]
    response = await post_bundle(client, bundle("transaction", entry(
        "PATCH", "Patient/pp",
        {"resourceType": "Binary", "contentType": "application/json-patch+json",
         "data": base64.b64encode(json.dumps(operations).encode()).decode()})))
    assert response.status_code == 200, response.text
    assert (await client.get("Patient/pp")).json()["name"][0]["family"] == "After"


async def test_too_many_entries_is_refused_with_the_limit(client, app, db):
    app.state.services.settings.max_bundle_entries = 3
    entries = [entry("POST", "Patient", patient(), urn()) for _ in range(4)]
    response = await post_bundle(client, bundle("transaction", *entries))
    assert response.status_code == 413
    assert "at most 3" in response.text
    assert await db["Patient"].count_documents({}) == 0


async def test_fifteen_hundred_entries_in_one_transaction(client, db):
    p = urn()
    entries = [entry("POST", "Patient", patient(), p)]
    entries += [entry("POST", "Observation", observation(p), urn()) for _ in range(1499)]
    response = await post_bundle(client, bundle("transaction", *entries))
    assert response.status_code == 200, response.text[:500]
    assert len(response.json()["entry"]) == 1500
    patient_id = response.json()["entry"][0]["response"]["location"].split("/")[1]
    assert await db["Observation"].count_documents(
        {"resource.subject.reference": f"Patient/{patient_id}"}) == 1499


async def test_malformed_bundles_are_refused(client):
    assert (await post_bundle(client, {"resourceType": "Patient"})).status_code == 400
    assert (await post_bundle(client, bundle("collection"))).status_code == 400
    bad_method = await post_bundle(client, bundle("transaction", entry("TRACE", "Patient")))
    assert bad_method.status_code == 400
    wrong_url = await post_bundle(client, bundle(
        "transaction", entry("POST", "http://elsewhere.example/fhir/Patient", patient())))
    assert wrong_url.status_code == 400
    no_request = await post_bundle(client, {"resourceType": "Bundle", "type": "transaction",
                                            "entry": [{"resource": patient()}]})
    assert no_request.status_code == 400


async def test_identifier_conditions_create_once_and_resolve_references(client, db):
    """Newer Synthea style: ifNoneExist and conditional references by identifier."""
    npi = "http://hl7.org/fhir/sid/us-npi|9941339108"
    practitioner = {"resourceType": "Practitioner", "name": [{"family": "Mwangi"}],
                    "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi",
                                    "value": "9941339108"}]}

    def transaction():
        individual = {"reference": f"Practitioner?identifier={npi}"}
        encounter = {"resourceType": "Encounter", "status": "finished",
                     "class": {"code": "AMB"}, "participant": [{"individual": individual}]}
        return bundle(
            "transaction",
            entry("POST", "Encounter", encounter, urn()),
            entry("POST", "Practitioner", practitioner, urn(), ifNoneExist=f"identifier={npi}"),
        )

    first = await post_bundle(client, transaction())
    assert first.status_code == 200, first.text
    assert first.json()["entry"][1]["response"]["status"].startswith("201")
    second = await post_bundle(client, transaction())
    assert second.status_code == 200, second.text
    assert second.json()["entry"][1]["response"]["status"].startswith("200")
    assert await db["Practitioner"].count_documents({}) == 1
    practitioner_id = (await db["Practitioner"].find_one({}))["_id"]
    async for encounter in db["Encounter"].find({}):
        individual = encounter["resource"]["participant"][0]["individual"]
        assert individual["reference"] == f"Practitioner/{practitioner_id}"
    assert await db["Encounter"].count_documents({}) == 2


def test_a_transaction_too_long_for_mongodb_is_explained():
    from pymongo.errors import OperationFailure

    from fhir_server.bundles.transaction import too_long
    from fhir_server.errors import PayloadTooLarge

    mapped = too_long(OperationFailure("lifetime", code=290), 12000)
    assert isinstance(mapped, PayloadTooLarge) and mapped.status == 413
    assert "12000 writes" in mapped.message and "Split the Bundle" in mapped.message
    assert too_long(OperationFailure("duplicate", code=11000), 3) is None
