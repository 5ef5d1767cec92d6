"""Parameter types the Synthea data does not exercise (number, uri, canonical references,
``:identifier``, meta parameters), paging while data changes, and match_ids."""

from __future__ import annotations

from typing import Any

import httpx

from fhir_server.access import SYSTEM, AccessPolicy

from .conftest import BASE


async def _ids(client: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text[:500]
    return sorted(e["resource"]["id"] for e in response.json().get("entry", []))


def _risk(rid: str, probability: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "RiskAssessment", "id": rid, "status": "final",
            "subject": {"reference": "Patient/p"}, "prediction": [probability]}


async def test_number_prefixes_and_precision(client) -> None:
    for rid, prediction in (("a", {"probabilityDecimal": 0.2}),
                            ("b", {"probabilityDecimal": 0.25}),
                            ("c", {"probabilityDecimal": 0.5}),
                            ("r", {"probabilityRange": {"low": {"value": 0.1},
                                                        "high": {"value": 0.3}}})):
        assert (await client.put(f"RiskAssessment/{rid}", json=_risk(rid, prediction))
                ).status_code == 201
    cases = {
        "0.2": ["a"],  # [0.15, 0.25)
        "0.20": ["a"],
        "0.25": ["b"],
        "gt0.2": ["b", "c", "r"],
        "ge0.25": ["b", "c", "r"],
        "lt0.2": ["r"],
        "le0.2": ["a", "r"],
        "sa0.3": ["c"],
        "eb0.2": [],
        "ne0.2": ["b", "c", "r"],
        "ap0.5": ["c"],
        "1e-1": [],  # [0.05, 0.15): no point value there, and the range is not inside it
    }
    for value, expected in cases.items():
        assert await _ids(client, "RiskAssessment", probability=value) == expected, value


async def test_uri_below_and_above(client) -> None:
    for rid, url in (("a", "http://example.org/fhir/ValueSet/a"),
                     ("b", "http://example.org/fhir/ValueSet/a/b"),
                     ("c", "http://other.org/ValueSet/a")):
        await client.put(f"ValueSet/{rid}", json={"resourceType": "ValueSet", "id": rid,
                                                  "url": url, "status": "active"})
    assert await _ids(client, "ValueSet", url="http://example.org/fhir/ValueSet/a") == ["a"]
    assert await _ids(client, "ValueSet", **{"url:below": "http://example.org/fhir"}) == [
        "a", "b"]
    assert await _ids(client, "ValueSet", **{
        "url:above": "http://example.org/fhir/ValueSet/a/b/c"}) == ["a", "b"]
    assert await _ids(client, "ValueSet", url="http://example.org/fhir") == []


async def test_reference_identifier_and_canonical_versions(client) -> None:
    await client.put("Observation/o1", json={
        "resourceType": "Observation", "id": "o1", "status": "final",
        "code": {"text": "x"},
        "subject": {"identifier": {"system": "urn:mrn", "value": "12345"}}})
    await client.put("QuestionnaireResponse/q1", json={
        "resourceType": "QuestionnaireResponse", "id": "q1", "status": "completed",
        "questionnaire": "http://example.org/Questionnaire/anc|2.0"})
    assert await _ids(client, "Observation", **{"subject:identifier": "urn:mrn|12345"}) == ["o1"]
    assert await _ids(client, "Observation", **{"subject:identifier": "12345"}) == ["o1"]
    assert await _ids(client, "Observation", **{"subject:identifier": "urn:x|12345"}) == []
    url = "http://example.org/Questionnaire/anc"
    assert await _ids(client, "QuestionnaireResponse", questionnaire=url) == ["q1"]
    assert await _ids(client, "QuestionnaireResponse", questionnaire=url + "|2.0") == ["q1"]
    assert await _ids(client, "QuestionnaireResponse", questionnaire=url + "|1.0") == []


async def test_meta_parameters(client) -> None:
    meta = {"profile": ["http://hl7.org/fhir/StructureDefinition/Patient"],
            "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                          "code": "R"}],
            "source": "http://example.org/clinic#a1"}
    for resource in ({"resourceType": "Patient", "id": "p1", "meta": meta},
                     {"resourceType": "Patient", "id": "p2"}):
        response = await client.put(f"Patient/{resource['id']}", json=resource)
        assert response.status_code == 201, response.text
    assert await _ids(client, "Patient", _profile=meta["profile"][0]) == ["p1"]
    assert await _ids(client, "Patient", _security="R") == ["p1"]
    assert await _ids(client, "Patient", **{"_security:not": "R"}) == ["p2"]
    assert await _ids(client, "Patient", _source="http://example.org/clinic#a1") == ["p1"]
    assert await _ids(client, "Patient", **{"_profile:missing": "true"}) == ["p2"]


async def test_paging_stays_correct_while_data_changes(client) -> None:
    for n in range(12):
        await client.put(f"Patient/p{n:02d}", json={
            "resourceType": "Patient", "id": f"p{n:02d}", "birthDate": f"20{n:02d}-01-01"})
    first = (await client.get("Patient", params={"_sort": "birthdate", "_count": "5"})).json()
    assert [e["resource"]["id"] for e in first["entry"]] == [f"p{n:02d}" for n in range(5)]
    await client.put("Patient/early", json={"resourceType": "Patient", "id": "early",
                                            "birthDate": "1990-01-01"})
    await client.delete("Patient/p05")
    await client.put("Patient/late", json={"resourceType": "Patient", "id": "late",
                                           "birthDate": "2030-01-01"})
    seen = [e["resource"]["id"] for e in first["entry"]]
    link = next(x["url"] for x in first["link"] if x["relation"] == "next")
    while link:
        bundle = (await client.get(link)).json()
        seen += [e["resource"]["id"] for e in bundle.get("entry", [])]
        link = next((x["url"] for x in bundle["link"] if x["relation"] == "next"), None)
    assert seen == [f"p{n:02d}" for n in range(12) if n != 5] + ["late"]
    assert link is None and BASE in first["link"][0]["url"]


async def test_match_ids_for_conditional_interactions(app, client) -> None:
    await client.put("Patient/p1", json={"resourceType": "Patient", "id": "p1",
                                         "identifier": [{"system": "urn:x", "value": "1"}]})
    engine = app.state.services.search
    assert await engine.match_ids(SYSTEM, "Patient", [("identifier", "urn:x|1")], 2) == ["p1"]
    assert await engine.match_ids(SYSTEM, "Patient", [("identifier", "urn:x|2")], 2) == []

    class OnlyOther(AccessPolicy):
        async def filter(self, resource_type: str) -> dict:
            return {"_id": "other"}

    restricted = await engine.match_ids(OnlyOther(), "Patient", [("identifier", "urn:x|1")], 2)
    assert restricted == []
    response = await client.post("Patient", json={"resourceType": "Patient"},
                                 headers={"If-None-Exist": "identifier=urn:x|1"})
    assert response.status_code == 200


async def test_quantity_units_convert_including_offsets(client) -> None:
    for rid, value, unit in (("c", 37, "Cel"), ("f", 100.4, "[degF]"), ("k", 305, "K")):
        response = await client.put(f"Observation/{rid}", json={
            "resourceType": "Observation", "id": rid, "status": "final",
            "code": {"text": "temperature"},
            "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org",
                              "code": unit, "unit": unit}})
        assert response.status_code == 201, response.text
    ucum = "http://unitsofmeasure.org"
    assert await _ids(client, "Observation", **{"value-quantity": f"gt309|{ucum}|K"}) == [
        "c", "f"]  # 310.15 K and 311.15 K
    assert await _ids(client, "Observation", **{"value-quantity": f"lt37.5|{ucum}|Cel"}) == [
        "c", "k"]  # 31.85 Cel
    assert await _ids(client, "Observation", **{"value-quantity": f"37|{ucum}|Cel"}) == ["c"]
    assert await _ids(client, "Observation", **{"value-quantity": "100.4||[degF]"}) == ["f"]
