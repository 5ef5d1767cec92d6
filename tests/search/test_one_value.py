"""Every condition with several parts on one indexed value is checked on ONE value.

A resource's index entries for a parameter are an array (one entry per value: each part of
a HumanName or Address, each Coding, each Period, each component...). A condition with two
parts (the two bounds of a string prefix or a number's precision range, system and code,
value and unit, start and end) must hold for the same entry: if the parts could be met by
different entries, a resource would match a value it does not have
(``Organization?address=nosuchstringvalue`` found Organizations whose address had one part
sorting before and another after the search string).

For each parameter type the data below holds a *split* resource, whose values together
have every part of the searched value but no single value has them all, and a *whole*
resource with one value that has them all. Expected ids come from an independent
predicate over the raw JSON (as in ``oracle.py``); the split resource must never match.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from fhir_server.config import Settings
from fhir_server.rest.app import create_app

from .conftest import BASE, search_ids
from .oracle import day_range, name_parts, starts

Resource = dict[str, Any]
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


@dataclass(frozen=True)
class Case:
    resource_type: str
    params: dict[str, str | list[str]]
    matches: Callable[[Resource], bool]
    split: str  # id of the resource that must not match
    whole: str  # id of the resource that must


def _human(rid: str, resource_type: str, *names: dict[str, Any]) -> Resource:
    resource: Resource = {"resourceType": resource_type, "id": rid, "name": list(names)}
    if resource_type == "RelatedPerson":
        resource["patient"] = {"reference": "Patient/someone"}
    return resource


def _addressed(rid: str, resource_type: str, *addresses: dict[str, Any]) -> Resource:
    resource: Resource = {"resourceType": resource_type, "id": rid, "address": list(addresses)}
    if resource_type == "RelatedPerson":
        resource["patient"] = {"reference": "Patient/someone"}
    return resource


def _observation(rid: str, **elements: Any) -> Resource:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"text": "test"}, **elements}


def _component(system: str, code: str, value: Any, unit: str, unit_system: str = UCUM
               ) -> dict[str, Any]:
    return {"code": {"coding": [{"system": system, "code": code}]},
            "valueQuantity": {"value": value, "unit": unit, "system": unit_system,
                              "code": unit}}


def _address_parts(resource: Resource) -> list[str]:
    return [p for a in resource.get("address", []) for p in
            [a.get("text", ""), *a.get("line", []), a.get("city", ""), a.get("district", ""),
             a.get("state", ""), a.get("postalCode", ""), a.get("country", "")] if p]


HUMAN_TYPES = ("Patient", "Practitioner", "RelatedPerson")
RESOURCES: list[Resource] = []
CASES: dict[str, Case] = {}

# -- string: the prefix range [value, value + U+10FFFF) on one name / address part --------
for kind in HUMAN_TYPES:
    RESOURCES += [
        _human(f"{kind}-name-split", kind, {"family": "Abbott"}, {"given": ["Zoran"]}),
        _human(f"{kind}-name-whole", kind, {"family": "Nosuchname"}),
        _addressed(f"{kind}-address-split", kind, {"city": "Ann Arbor"}, {"city": "Oregon"}),
        _addressed(f"{kind}-address-whole", kind, {"city": "Nosuchstreet"}),
    ]
    for code in ("name", "phonetic"):
        CASES[f"string {kind}.{code}"] = Case(
            kind, {code: "nosuchname"},
            lambda r: starts(name_parts(r.get("name", [])), "nosuchname"),
            f"{kind}-name-split", f"{kind}-name-whole")
    CASES[f"string {kind}.address"] = Case(
        kind, {"address": "nosuchstr"}, lambda r: starts(_address_parts(r), "nosuchstr"),
        f"{kind}-address-split", f"{kind}-address-whole")

RESOURCES += [
    {"resourceType": "Organization", "id": "org-split", "name": "Abbott Clinic",
     "alias": ["Zenith"], "address": [{"line": ["Ann Street"], "city": "Oregon"}]},
    {"resourceType": "Organization", "id": "org-whole", "name": "Nosuchstring Clinic",
     "address": [{"city": "Nosuchstring"}]},
]
for code in ("name", "phonetic", "address"):
    CASES[f"string Organization.{code}"] = Case(
        "Organization", {code: "nosuchstring"},
        lambda r, code=code: starts(
            _address_parts(r) if code == "address" else [r.get("name", ""), *r.get("alias", [])],
            "nosuchstring"),
        "org-split", "org-whole")

# -- token: system|code, :text, :of-type on one Coding / Identifier ----------------------
RESOURCES += [
    _observation("token-split", code={"coding": [
        {"system": LOINC, "code": "1111-1", "display": "Alpha"},
        {"system": "http://snomed.info/sct", "code": "2222-2", "display": "Zulu"}]}),
    _observation("token-whole", code={"coding": [
        {"system": LOINC, "code": "2222-2", "display": "Middle"}]}),
]


def _has_coding(r: Resource, system: str, code: str) -> bool:
    return any(c.get("system") == system and c.get("code") == code
               for c in r["code"].get("coding", []))


CASES["token system|code"] = Case(
    "Observation", {"code": f"{LOINC}|2222-2"}, lambda r: _has_coding(r, LOINC, "2222-2"),
    "token-split", "token-whole")
CASES["token :text"] = Case(
    "Observation", {"code:text": "mid"},
    lambda r: starts([c.get("display", "") for c in r["code"].get("coding", [])], "mid"),
    "token-split", "token-whole")


def _identifier(type_code: str, value: str) -> dict[str, Any]:
    return {"type": {"coding": [{"system": V2_0203, "code": type_code}]},
            "system": "urn:ids", "value": value}


RESOURCES += [
    {"resourceType": "Patient", "id": "identifier-split",
     "identifier": [_identifier("MR", "111"), _identifier("SS", "222")]},
    {"resourceType": "Patient", "id": "identifier-whole",
     "identifier": [_identifier("MR", "222")]},
]
CASES["token :of-type"] = Case(
    "Patient", {"identifier:of-type": f"{V2_0203}|MR|222"},
    lambda r: any(i["value"] == "222" and i["type"]["coding"][0]["code"] == "MR"
                  for i in r.get("identifier", [])),
    "identifier-split", "identifier-whole")

# -- reference: type/id, and :identifier system|value, of one Reference -----------------
RESOURCES += [
    _observation("reference-split", performer=[
        {"reference": "Practitioner/a"}, {"reference": "Organization/b"},
        {"identifier": {"system": "urn:one", "value": "1"}},
        {"identifier": {"system": "urn:two", "value": "2"}}]),
    _observation("reference-whole", performer=[
        {"reference": "Practitioner/b"}, {"identifier": {"system": "urn:one", "value": "2"}}]),
]
CASES["reference type/id"] = Case(
    "Observation", {"performer": "Practitioner/b"},
    lambda r: any(p.get("reference") == "Practitioner/b" for p in r.get("performer", [])),
    "reference-split", "reference-whole")
CASES["reference :identifier"] = Case(
    "Observation", {"performer:identifier": "urn:one|2"},
    lambda r: any(p.get("identifier") == {"system": "urn:one", "value": "2"}
                  for p in r.get("performer", [])),
    "reference-split", "reference-whole")

# -- uri: the :below prefix range on one uri ---------------------------------------------
RESOURCES += [
    {"resourceType": "Patient", "id": "uri-split",
     "meta": {"profile": ["http://a.example.org/p", "http://z.example.org/p"]}},
    {"resourceType": "Patient", "id": "uri-whole",
     "meta": {"profile": ["http://m.example.org/fhir/p"]}},
]
CASES["uri :below"] = Case(
    "Patient", {"_profile:below": "http://m.example.org/fhir"},
    lambda r: any(p.startswith("http://m.example.org/fhir")
                  for p in r.get("meta", {}).get("profile", [])),
    "uri-split", "uri-whole")

# -- date: start and end of one Period ---------------------------------------------------


def _stay(start: str, end: str) -> dict[str, Any]:
    return {"location": {"reference": "Location/ward"}, "period": {"start": start, "end": end}}


RESOURCES += [
    {"resourceType": "Encounter", "id": "period-split", "status": "finished",
     "class": {"code": "IMP"},
     "location": [_stay("2019-12-01", "2019-12-31"), _stay("2021-01-01", "2021-01-31")]},
    {"resourceType": "Encounter", "id": "period-whole", "status": "finished",
     "class": {"code": "IMP"}, "location": [_stay("2020-03-10", "2020-04-20")]},
]


def _periods(r: Resource) -> list[tuple[datetime, datetime]]:
    found = []
    for stay in r.get("location", []):
        start, end = day_range(stay["period"]["start"]), day_range(stay["period"]["end"])
        found.append((start[0], end[1]))
    return found


YEAR, MARCH, APRIL = day_range("2020"), day_range("2020-03"), day_range("2020-04")
CASES["date eq (one period within the year)"] = Case(
    "Encounter", {"location-period": "2020"},
    lambda r: any(s >= YEAR[0] and e <= YEAR[1] for s, e in _periods(r)),
    "period-split", "period-whole")
CASES["date ge&le (one period overlapping both bounds)"] = Case(
    "Encounter", {"location-period": ["ge2020-03-01", "le2020-04-30"]},
    lambda r: any(e > MARCH[0] and s < APRIL[1] for s, e in _periods(r)),
    "period-split", "period-whole")

# -- number: the precision range of one prediction -------------------------------------


def _risk(rid: str, *probabilities: float) -> Resource:
    return {"resourceType": "RiskAssessment", "id": rid, "status": "final",
            "subject": {"reference": "Patient/someone"},
            "prediction": [{"probabilityDecimal": p} for p in probabilities]}


RESOURCES += [_risk("number-split", 0.2, 0.8), _risk("number-whole", 0.5)]
CASES["number eq"] = Case(
    "RiskAssessment", {"probability": "0.5"},
    lambda r: any(Decimal("0.45") <= Decimal(str(p["probabilityDecimal"])) < Decimal("0.55")
                  for p in r["prediction"]),
    "number-split", "number-whole")

# -- quantity: the value and the unit of one Quantity -----------------------------------
RESOURCES += [
    _observation("quantity-split", component=[
        _component(LOINC, "1-1", 5, "mg"), _component(LOINC, "2-2", 100, "kg"),
        _component(LOINC, "3-3", 5, "widgets", "urn:units"),
        _component(LOINC, "4-4", 7, "gadgets", "urn:units")]),
    _observation("quantity-whole", component=[
        _component(LOINC, "1-1", 5, "kg"), _component(LOINC, "2-2", 5, "gadgets", "urn:units")]),
]


def _component_quantities(r: Resource) -> list[tuple[Decimal, str]]:
    return [(Decimal(str(c["valueQuantity"]["value"])), c["valueQuantity"]["code"])
            for c in r.get("component", [])]


CASES["quantity value|ucum unit"] = Case(
    "Observation", {"component-value-quantity": f"5|{UCUM}|kg"},
    lambda r: (Decimal(5), "kg") in _component_quantities(r), "quantity-split", "quantity-whole")
CASES["quantity value|other unit"] = Case(
    "Observation", {"component-value-quantity": "5|urn:units|gadgets"},
    lambda r: (Decimal(5), "gadgets") in _component_quantities(r),
    "quantity-split", "quantity-whole")

# -- composite: code and value of one component -----------------------------------------
RESOURCES += [
    _observation("composite-split", component=[
        _component(LOINC, "8480-6", 100, "mm[Hg]"), _component(LOINC, "8462-4", 150, "mm[Hg]")]),
    _observation("composite-whole", component=[_component(LOINC, "8480-6", 150, "mm[Hg]")]),
]
CASES["composite code$value"] = Case(
    "Observation", {"component-code-value-quantity": f"{LOINC}|8480-6$150"},
    lambda r: any(c["code"]["coding"][0]["code"] == "8480-6"
                  and c["valueQuantity"]["value"] == 150 for c in r.get("component", [])),
    "composite-split", "composite-whole")


@pytest.fixture(scope="module")
async def loaded(mongo_client: AsyncMongoClient, mongodb_uri: str
                 ) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database=f"test_one_value_{id(RESOURCES)}", mongodb_uri=mongodb_uri,
                        base_url=BASE)
    app = create_app(settings, mongo_client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as client:
            for resource in RESOURCES:
                response = await client.put(f"{resource['resourceType']}/{resource['id']}",
                                            json=resource)
                assert response.status_code == 201, response.text[:500]
            yield client
    await mongo_client.drop_database(settings.database)


@pytest.mark.parametrize("name", sorted(CASES))
async def test_parts_of_a_value_match_on_one_value(loaded: httpx.AsyncClient, name: str
                                                   ) -> None:
    case = CASES[name]
    candidates = [r for r in RESOURCES if r["resourceType"] == case.resource_type]
    expected = sorted(r["id"] for r in candidates if case.matches(r))
    assert case.whole in expected and case.split not in expected, "the case must discriminate"
    found = await search_ids(loaded, case.resource_type, **case.params)
    assert sorted(found) == expected


async def test_no_such_string_value_matches_nothing(loaded: httpx.AsyncClient) -> None:
    for resource_type in (*HUMAN_TYPES, "Organization"):
        for code in ("name", "phonetic", "address"):
            assert await search_ids(loaded, resource_type, **{code: "nosuchstringvalue"}) == [
            ], (resource_type, code)
