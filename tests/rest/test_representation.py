"""What a response looks like: Prefer return=, _format and Accept, _pretty, _summary and
_elements (FHIR R4 http page 3.1.0.1.6-3.1.0.1.7, 3.1.0.4.1; search page 3.1.1.5.8-9)."""

from __future__ import annotations

import pytest

from .helpers import FHIR_JSON, assert_outcome, patient

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
             "code": "SUBSETTED", "display": "subsetted"}


def _full_patient() -> dict:
    return patient(
        id="full",
        text={"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">A</div>"},
        identifier=[{"system": "urn:mch:anc", "value": "ANC-1"}],
        maritalStatus={"text": "married"},
        multipleBirthInteger=2,
        contact=[{"name": {"family": "Okafor"}}],
        communication=[{"language": {"text": "Igbo"}}],
        deceasedBoolean=False,
        _birthDate={"extension": [{"url": "http://x/accuracy", "valueString": "estimated"}]},
    )


@pytest.mark.parametrize("prefer", ["return=minimal", "return = minimal",
                                    "handling=strict, return=minimal", 'return="minimal"'])
async def test_prefer_minimal_on_create_has_headers_and_no_body(client, prefer):
    r = await client.post("Patient", json=patient(), headers={"Prefer": prefer})
    assert r.status_code == 201, r.text
    assert r.content == b""
    assert r.headers["etag"] == 'W/"1"'
    assert "/Patient/" in r.headers["location"]


async def test_prefer_on_update_and_patch(client):
    await client.put("Patient/p", json=patient(id="p"))
    minimal = await client.put("Patient/p", json=patient("B", id="p"),
                               headers={"Prefer": "return=minimal"})
    assert minimal.status_code == 200 and minimal.content == b""
    assert minimal.headers["etag"] == 'W/"2"'
    outcome = await client.put("Patient/p", json=patient("C", id="p"),
                               headers={"Prefer": "return=OperationOutcome"})
    assert outcome.status_code == 200
    assert outcome.json()["resourceType"] == "OperationOutcome"
    assert outcome.json()["issue"][0]["severity"] == "information"
    represented = await client.patch(
        "Patient/p", json=[{"op": "replace", "path": "/gender", "value": "male"}],
        headers={"Content-Type": "application/json-patch+json",
                 "Prefer": "return=representation"})
    assert represented.json()["gender"] == "male"
    default = await client.put("Patient/p", json=patient("D", id="p"))
    assert default.json()["name"][0]["family"] == "D"


async def test_prefer_operation_outcome_on_create(client):
    r = await client.post("Patient", json=patient(), headers={"Prefer": "return=OperationOutcome"})
    assert r.status_code == 201
    assert r.json()["resourceType"] == "OperationOutcome"
    assert "created" in r.json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize(("fmt", "media"), [
    ("json", "application/fhir+json"),
    ("application/fhir+json", "application/fhir+json"),
    ("application/json", "application/json"),
    ("application/fhir+json;fhirVersion=4.0", "application/fhir+json"),
])
async def test_format_parameter_chooses_json_flavour(client, fmt, media):
    await client.put("Patient/p", json=patient(id="p"))
    r = await client.get("Patient/p", params={"_format": fmt})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == f"{media}; charset=utf-8"
    assert r.json()["id"] == "p"


@pytest.mark.parametrize(("accept", "media"), [
    ("application/fhir+json", "application/fhir+json"),
    ("application/json", "application/json"),
    ("*/*", "application/fhir+json"),
    ("application/fhir+xml;q=1, application/fhir+json;q=0.5", "application/fhir+json"),
    ("application/fhir+json; fhirVersion=4.0", "application/fhir+json"),
])
async def test_accept_header_chooses_json_flavour(client, accept, media):
    await client.put("Patient/p", json=patient(id="p"))
    r = await client.get("Patient/p", headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == f"{media}; charset=utf-8"


@pytest.mark.parametrize("params, headers, words", [
    ({"_format": "xml"}, {}, "xml"),
    ({"_format": "application/fhir+xml"}, {}, "xml"),
    ({"_format": "turtle"}, {}, "turtle"),
    ({}, {"Accept": "application/fhir+xml"}, "xml"),
    ({}, {"Accept": "text/csv"}, "text/csv"),
    ({}, {"Accept": "application/fhir+json; fhirVersion=3.0"}, "fhirversion"),
])
async def test_unsupported_formats_are_406(client, params, headers, words):
    await client.put("Patient/p", json=patient(id="p"))
    r = await client.get("Patient/p", params=params, headers=headers)
    assert_outcome(r, 406, words)


async def test_unsupported_format_on_write_is_406_and_stores_nothing(client, db):
    r = await client.post("Patient", json=patient(), headers={"Accept": "application/fhir+xml"})
    assert_outcome(r, 406, "xml")
    assert await db["Patient"].count_documents({}) == 0


async def test_pretty(client):
    await client.put("Patient/p", json=patient(id="p"))
    pretty = await client.get("Patient/p?_pretty=true")
    assert pretty.text.startswith("{\n  \"resourceType\"")
    compact = await client.get("Patient/p?_pretty=false")
    assert "\n" not in compact.text
    assert pretty.json() == compact.json()


async def test_summary_true_keeps_summary_elements(client):
    await client.put("Patient/full", json=_full_patient())
    body = (await client.get("Patient/full?_summary=true")).json()
    assert set(body) == {"resourceType", "id", "meta", "identifier", "name", "gender",
                         "birthDate", "_birthDate", "deceasedBoolean"}
    assert SUBSETTED in body["meta"]["tag"]


async def test_summary_text_data_false(client):
    await client.put("Patient/full", json=_full_patient())
    text = (await client.get("Patient/full?_summary=text")).json()
    assert set(text) == {"resourceType", "id", "meta", "text"}
    data = (await client.get("Patient/full?_summary=data")).json()
    assert "text" not in data and data["contact"] and data["maritalStatus"]
    assert SUBSETTED in data["meta"]["tag"]
    full = (await client.get("Patient/full?_summary=false")).json()
    assert full == (await client.get("Patient/full")).json()
    assert "tag" not in full["meta"]


async def test_summary_text_keeps_mandatory_elements(client):
    observation = {"resourceType": "Observation", "id": "o", "status": "final",
                   "code": {"text": "Hb"}, "valueQuantity": {"value": 11.2, "unit": "g/dL"},
                   "note": [{"text": "fasting"}]}
    await client.put("Observation/o", json=observation)
    body = (await client.get("Observation/o?_summary=text")).json()
    assert set(body) == {"resourceType", "id", "meta", "status", "code"}
    summary = (await client.get("Observation/o?_summary=true")).json()
    assert "valueQuantity" in summary and "note" not in summary


async def test_summary_count_and_unknown_modes_are_invalid_on_read(client):
    await client.put("Patient/p", json=patient(id="p"))
    assert_outcome(await client.get("Patient/p?_summary=count"), 400, "count")
    assert_outcome(await client.get("Patient/p?_summary=brief"), 400, "_summary")


async def test_elements(client):
    await client.put("Patient/full", json=_full_patient())
    body = (await client.get("Patient/full?_elements=name,birthDate")).json()
    assert set(body) == {"resourceType", "id", "meta", "name", "birthDate", "_birthDate"}
    assert SUBSETTED in body["meta"]["tag"]
    qualified = (await client.get("Patient/full?_elements=Patient.gender,name.family")).json()
    assert set(qualified) == {"resourceType", "id", "meta", "gender", "name"}
    choice = (await client.get("Patient/full?_elements=deceased,multipleBirth")).json()
    assert set(choice) == {"resourceType", "id", "meta", "deceasedBoolean",
                           "multipleBirthInteger"}
    vread = (await client.get("Patient/full/_history/1?_elements=gender")).json()
    assert set(vread) == {"resourceType", "id", "meta", "gender"}


async def test_subsetting_does_not_change_what_is_stored(client):
    await client.put("Patient/full", json=_full_patient())
    await client.get("Patient/full?_summary=true")
    stored = (await client.get("Patient/full")).json()
    assert "tag" not in stored["meta"] and "contact" in stored


async def test_write_response_content_type_follows_accept(client):
    r = await client.post("Patient", json=patient(), headers={**FHIR_JSON,
                                                              "Accept": "application/json"})
    assert r.headers["content-type"] == "application/json; charset=utf-8"
