"""Blocking searches (fhir_server.identity.candidate_searches): their parameters, and that
the server's own Patient search finds the registered record of true matches with them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.matching import load_pairs
from fhir_server.identity import candidate_searches

DATA = Path(__file__).parents[1] / "data" / "identity" / "pairs.json"
HID = "https://example.org/fhir/sid/health-id"
ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"


def _parameters(patient: dict, **options) -> list[tuple[tuple[str, str], ...]]:
    return [s.parameters for s in candidate_searches(patient, **options)]


def test_identifier_searches_with_and_without_system() -> None:
    patient = {"identifier": [{"system": HID, "value": "91-2345-6789-0123"},
                              {"value": "a|b,c"}, {"system": "urn:x", "value": "12"}]}
    assert _parameters(patient) == [
        (("identifier", f"{HID}|91-2345-6789-0123"),),
        (("identifier", "91-2345-6789-0123"),),
        (("identifier", f"{HID}|91234567890123"),),
        (("identifier", "91234567890123"),),
        (("identifier", "a\\|b\\,c"),),
        (("identifier", "urn:x|12"),),
    ]


def test_phone_birth_date_and_initials() -> None:
    patient = {"name": [{"given": ["Seeta"], "family": "Sharma"}], "gender": "female",
               "birthDate": "1990-03-07",
               "telecom": [{"system": "phone", "value": "+91 98765 43210"}]}
    window = (("birthdate", "ge1989"), ("birthdate", "le1991"))
    assert _parameters(patient) == [
        (("phone", "+91 98765 43210"),), (("phone", "9876543210"),),
        (("birthdate", "1990-03-07"), ("gender", "female")),
        (("birthdate", "1990-07-03"), ("gender", "female")),
        (("birthdate", "1989-03-07"), ("gender", "female")),
        (("birthdate", "1991-03-07"), ("gender", "female")),
        (("given", "s"), ("family", "s"), *window),
    ]
    phonetic = _parameters(patient, phonetic=True)
    assert (("phonetic", "sharma"), *window) in phonetic
    assert (("phonetic", "seeta"), *window) in phonetic


def test_estimated_birth_date_searches_the_year_and_mother_searches() -> None:
    mother = {"resourceType": "RelatedPerson", "patient": {"reference": "#"},
              "relationship": [{"coding": [{"system": ROLE, "code": "MTH"}]}],
              "identifier": [{"system": HID, "value": "11-1111"}]}
    patient = {"birthDate": "2020-01-01", "contained": [mother]}
    found = _parameters(patient)
    assert (("birthdate", "2020"),) in found
    assert (("_has:RelatedPerson:patient:identifier", f"{HID}|111111"),) in found


def test_nothing_to_search_on() -> None:
    assert candidate_searches({"resourceType": "Patient"}) == []


async def test_the_server_finds_true_matches_through_the_blocking_searches(
        client: httpx.AsyncClient) -> None:
    """Every 6th true match of the labelled set: the registered record is stored, the
    blocking searches of the other record run as the server's Patient searches."""
    pairs = [p for p in load_pairs(DATA) if p["label"] == "match"][::6]
    registered = {p["candidate"]["id"]: p["candidate"] for p in pairs}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": r, "request": {"method": "PUT", "url": f"Patient/{i}"}}
        for i, r in registered.items()]}
    response = await client.post("", json=bundle)
    assert response.status_code == 200, response.text
    found = 0
    for pair in pairs:
        searches = candidate_searches(pair["patient"])
        batch = {"resourceType": "Bundle", "type": "batch", "entry": [
            {"request": {"method": "GET",
                         "url": "Patient?" + urlencode([*s.parameters, ("_elements", "id")])}}
            for s in searches]}
        answer = (await client.post("", json=batch)).json()
        statuses = {e["response"]["status"][:3] for e in answer["entry"]}
        assert statuses <= {"200"}, answer
        ids = {hit["resource"]["id"] for e in answer["entry"]
               for hit in e["resource"].get("entry", [])}
        found += pair["candidate"]["id"] in ids
    assert len(pairs) >= 60
    assert found / len(pairs) >= 0.98  # measured: every one found
