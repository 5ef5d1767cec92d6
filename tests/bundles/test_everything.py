"""``$everything`` on Synthea patients, checked against an oracle built from their Bundles.

In a Synthea Bundle every resource belongs to the one patient, except the Organizations
and Practitioners, which $everything must return only when something references them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .synthea import BUNDLES, load, references

FHIR = {"Content-Type": "application/fhir+json"}
INCLUDED = ("Organization", "Practitioner", "Location", "Medication")


async def load_bundle(client, path):
    """Load through POST /fhir; the oracle's view of it: fullUrl -> Type/id, resources."""
    bundle = load(path)
    response = await client.post("", content=path.read_bytes(), headers=FHIR)
    assert response.status_code == 200, response.text[:300]
    local = {}
    for sent, received in zip(bundle["entry"], response.json()["entry"], strict=True):
        local[sent["fullUrl"]] = "/".join(received["response"]["location"].split("/")[:2])
    return bundle, local


def oracle(bundle, local, types=None):
    """(matches, includes) expected for the Bundle's patient, as sets of Type/id."""
    kept = [e for e in bundle["entry"] if types is None
            or e["resource"]["resourceType"] in types]
    matches = {local[e["fullUrl"]] for e in kept
               if e["resource"]["resourceType"] not in INCLUDED}
    referenced = set()
    for e in bundle["entry"]:
        if local[e["fullUrl"]] in matches:
            referenced.update(local.get(r, r) for r in references(e["resource"]))
    includes = {local[e["fullUrl"]] for e in bundle["entry"]
                if e["resource"]["resourceType"] in INCLUDED
                and (types is None or e["resource"]["resourceType"] in types)
                and local[e["fullUrl"]] in referenced}
    return matches, includes


async def everything(client, url):
    """Follow every page; returns (matches, includes, pages) with matches in order."""
    matches, includes, pages = [], set(), 0
    while url:
        response = await client.get(url)
        assert response.status_code == 200, response.text[:300]
        page = response.json()
        assert page["type"] == "searchset"
        pages += 1
        for entry in page["entry"]:
            ref = f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
            assert entry["fullUrl"].endswith(ref)
            (matches.append if entry["search"]["mode"] == "match" else includes.add)(ref)
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
        if url:
            parts = urlsplit(url)
            url = parts.path.removeprefix("/fhir/") + "?" + parts.query
    return matches, includes, pages


@pytest.fixture
async def two_patients(client):
    smallest = sorted(BUNDLES, key=lambda p: p.stat().st_size)
    first = await load_bundle(client, smallest[0])
    second = await load_bundle(client, smallest[1])
    return first, second


def patient_of(loaded):
    bundle, local = loaded
    return next(local[e["fullUrl"]] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Patient").split("/")[1]


async def test_everything_matches_the_bundle(client, two_patients):
    first, _ = two_patients
    expected_matches, expected_includes = oracle(*first)
    assert len(expected_matches) > 50 and expected_includes
    matches, includes, pages = await everything(
        client, f"Patient/{patient_of(first)}/$everything?_count=1000")
    assert pages == 1
    assert set(matches) == expected_matches and len(matches) == len(expected_matches)
    assert includes == expected_includes
    assert matches[0] == f"Patient/{patient_of(first)}"


async def test_paging_returns_everything_once(client, two_patients):
    _, second = two_patients
    expected_matches, expected_includes = oracle(*second)
    matches, includes, pages = await everything(
        client, f"Patient/{patient_of(second)}/$everything?_count=37")
    assert pages == -(-len(expected_matches) // 37)
    assert len(matches) == len(set(matches)) == len(expected_matches)
    assert set(matches) == expected_matches
    assert includes == expected_includes


async def test_type_filter(client, two_patients):
    first, _ = two_patients
    types = {"Encounter", "Practitioner"}
    expected_matches, expected_includes = oracle(*first, types=types)
    matches, includes, _ = await everything(
        client, f"Patient/{patient_of(first)}/$everything?_type=Encounter,Practitioner"
        "&_count=500")
    assert set(matches) == expected_matches
    assert includes == expected_includes and expected_includes


async def test_since_returns_what_changed(client, two_patients):
    first, _ = two_patients
    patient = patient_of(first)
    page = (await client.get(f"Patient/{patient}/$everything?_type=Encounter")).json()
    encounter = page["entry"][0]["resource"]
    since = encounter["meta"]["lastUpdated"]
    encounter["status"] = "entered-in-error"
    updated = await client.put(f"Encounter/{encounter['id']}", json=encounter, headers=FHIR)
    assert updated.status_code == 200
    later = updated.json()["meta"]["lastUpdated"]
    assert later > since
    matches, _, _ = await everything(client, f"Patient/{patient}/$everything?_since={later}")
    assert matches == [f"Encounter/{encounter['id']}"]


async def test_type_level_with_a_patient_list(client, two_patients):
    first, second = two_patients
    both = oracle(*first)[0] | oracle(*second)[0]
    listed, _, _ = await everything(
        client, f"Patient/$everything?patient={patient_of(first)},Patient/{patient_of(second)}"
        "&_count=1000")
    assert set(listed) == both and len(listed) == len(both)
    unlisted, _, _ = await everything(client, "Patient/$everything?_count=1000")
    assert set(unlisted) == both


async def test_errors(client, two_patients):
    assert (await client.get("Patient/nobody/$everything")).status_code == 404
    first, _ = two_patients
    bad = await client.get(f"Patient/{patient_of(first)}/$everything?_count=many")
    assert bad.status_code == 400
    cursor = await client.get(f"Patient/{patient_of(first)}/$everything?_cursor=xyz")
    assert cursor.status_code == 400
    unknown = await client.get(f"Patient/{patient_of(first)}/$everything?colour=red")
    assert unknown.status_code == 400
