"""Result parameters on the Synthea data: _sort, paging links, _total, _summary,
_elements, _include/_revinclude (with :iterate and *), compartments, system-level search
and POST _search (https://hl7.org/fhir/R4/search.html#return)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from fhir_server.access import AccessPolicy

from .conftest import BASE, Loaded, search_ids
from .oracle import concept_has, fold, instant_range

Resource = dict[str, Any]


def _ref(resource: Resource) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def _patient(data: Loaded, given: str) -> Resource:
    return next(p for p in data.of("Patient") if p["name"][0]["given"][0] == given)


async def _pages(client: httpx.AsyncClient, path: str, relation: str = "next",
                 **params: str) -> list[dict[str, Any]]:
    bundles = []
    response = await client.get(path, params=params) if params else await client.get(path)
    while True:
        assert response.status_code == 200, response.text[:500]
        bundles.append(response.json())
        links = {link["relation"]: link["url"] for link in bundles[-1]["link"]}
        if relation not in links:
            return bundles
        assert links[relation].startswith(BASE)
        response = await client.get(links[relation])


def _ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


async def test_sort_descending_date_across_pages(synthea: Loaded) -> None:
    bundles = await _pages(synthea.client, "Observation", _sort="-date", _count="17")
    found = [i for b in bundles for i in _ids(b)]
    expected = [o["id"] for o in sorted(
        sorted(synthea.of("Observation"), key=lambda o: o["id"]),
        key=lambda o: instant_range(o["effectiveDateTime"])[0], reverse=True)]
    assert found == expected
    assert len(bundles) == -(-len(expected) // 17)
    assert all(len(_ids(b)) == 17 for b in bundles[:-1])


async def test_previous_links_walk_back_the_same_pages(synthea: Loaded) -> None:
    forward = await _pages(synthea.client, "Encounter", _sort="date", _count="5")
    last = forward[-1]["link"]
    self_url = next(link["url"] for link in last if link["relation"] == "self")
    backward = await _pages(synthea.client, self_url, relation="previous")
    assert [_ids(b) for b in backward] == [_ids(b) for b in reversed(forward)]
    assert not any(link["relation"] == "previous" for link in forward[0]["link"])


async def test_sort_on_several_keys(synthea: Loaded) -> None:
    bundles = await _pages(synthea.client, "Observation", _sort="code,-date", _count="50")
    found = [i for b in bundles for i in _ids(b)]

    def key(o: Resource) -> tuple[str, float, str]:
        code = min(c["code"] for c in o["code"]["coding"])
        return code, -instant_range(o["effectiveDateTime"])[0].timestamp(), o["id"]

    assert found == [o["id"] for o in sorted(synthea.of("Observation"), key=key)]


async def test_sort_on_string_and_missing_values(synthea: Loaded) -> None:
    bundles = await _pages(synthea.client, "Patient", _sort="family")
    found = _ids(bundles[0])
    families = {p["id"]: min(fold(n["family"]) for n in p["name"]) for p in synthea.of("Patient")}
    assert found == sorted(families, key=lambda i: (families[i], i))
    bundles = await _pages(synthea.client, "Condition", _sort="-abatement-date", _count="3")
    found = [i for b in bundles for i in _ids(b)]
    with_end = sorted((c for c in synthea.of("Condition") if "abatementDateTime" in c),
                      key=lambda c: (-instant_range(c["abatementDateTime"])[0].timestamp(),
                                     c["id"]))
    without = sorted(c["id"] for c in synthea.of("Condition") if "abatementDateTime" not in c)
    assert found == [c["id"] for c in with_end] + without


async def test_totals(synthea: Loaded) -> None:
    weights = [o for o in synthea.of("Observation") if concept_has(o["code"], "29463-7")]
    response = await synthea.client.get("Observation", params={
        "code": "29463-7", "_count": "2", "_total": "accurate"})
    assert response.json()["total"] == len(weights)
    response = await synthea.client.get("Observation", params={"code": "29463-7", "_count": "2"})
    assert "total" not in response.json()
    response = await synthea.client.get("Observation", params={"code": "29463-7",
                                                               "_count": "50"})
    assert response.json()["total"] == len(weights)
    response = await synthea.client.get("Observation", params={"code": "29463-7",
                                                               "_total": "none"})
    assert "total" not in response.json()
    response = await synthea.client.get("Observation", params={"_summary": "count",
                                                               "code": "29463-7"})
    assert response.json()["total"] == len(weights) and "entry" not in response.json()
    response = await synthea.client.get("Practitioner", params={"_total": "estimate"})
    assert response.json()["total"] == len(synthea.of("Practitioner"))


async def test_summary_and_elements(synthea: Loaded) -> None:
    response = await synthea.client.get("Patient", params={"_summary": "true"})
    resources = [e["resource"] for e in response.json()["entry"]]
    assert resources and all("text" not in r and "name" in r for r in resources)
    assert all(any(t.get("code") == "SUBSETTED" for t in r["meta"]["tag"]) for r in resources)
    response = await synthea.client.get("Patient", params={"_elements": "gender"})
    for resource in (e["resource"] for e in response.json()["entry"]):
        assert set(resource) == {"resourceType", "id", "meta", "gender"}


async def test_include_and_revinclude(synthea: Loaded) -> None:
    bundle = (await synthea.client.get("Observation", params={
        "code": "2093-3", "_include": "Observation:subject"})).json()
    matches = [o for o in synthea.of("Observation") if concept_has(o["code"], "2093-3")]
    assert sorted(_ids(bundle)) == sorted(o["id"] for o in matches)
    subjects = {o["subject"]["reference"].split("/")[1] for o in matches}
    assert sorted(_ids(bundle, "include")) == sorted(subjects)

    luigi = _patient(synthea, "Luigi")
    bundle = (await synthea.client.get("Patient", params={
        "_id": luigi["id"], "_revinclude": ["Observation:subject", "Immunization:patient"],
    })).json()
    expected = [o["id"] for o in synthea.of("Observation")
                if o["subject"]["reference"] == _ref(luigi)]
    expected += [i["id"] for i in synthea.of("Immunization")
                 if i["patient"]["reference"] == _ref(luigi)]
    assert _ids(bundle) == [luigi["id"]]
    assert sorted(_ids(bundle, "include")) == sorted(expected)
    assert all(e["fullUrl"].startswith(BASE + "/") for e in bundle["entry"])


async def test_include_iterate(synthea: Loaded) -> None:
    observation = synthea.of("Observation")[0]
    encounter = synthea.by_reference(observation["encounter"]["reference"])
    assert encounter is not None
    bundle = (await synthea.client.get("Observation", params={
        "_id": observation["id"], "_include": "Observation:encounter",
        "_include:iterate": "Encounter:service-provider"})).json()
    included = {(e["resource"]["resourceType"], e["resource"]["id"])
                for e in bundle["entry"] if e["search"]["mode"] == "include"}
    provider = encounter["serviceProvider"]["reference"].split("/")
    assert included == {("Encounter", encounter["id"]), tuple(provider)}
    bundle = (await synthea.client.get("Observation", params={
        "_id": observation["id"], "_include": ["Observation:encounter",
                                               "Encounter:service-provider"]})).json()
    assert len(_ids(bundle, "include")) == 1  # without :iterate, no second step


async def test_include_and_revinclude_wildcards(synthea: Loaded) -> None:
    observation = synthea.of("Observation")[0]
    bundle = (await synthea.client.get("Observation", params={
        "_id": observation["id"], "_include": "*"})).json()
    included = {f"{e['resource']['resourceType']}/{e['resource']['id']}"
                for e in bundle["entry"] if e["search"]["mode"] == "include"}
    assert included == {observation["subject"]["reference"],
                        observation["encounter"]["reference"]}
    enda = _patient(synthea, "Enda")
    bundle = (await synthea.client.get("Patient", params={
        "_id": enda["id"], "_revinclude": "*"})).json()
    included = {(e["resource"]["resourceType"], e["resource"]["id"])
                for e in bundle["entry"] if e["search"]["mode"] == "include"}
    for resource_type, field in (("Observation", "subject"), ("Encounter", "subject"),
                                 ("Immunization", "patient"), ("Claim", "patient")):
        own = {(resource_type, r["id"]) for r in synthea.of(resource_type)
               if r[field]["reference"] == _ref(enda)}
        assert own and own <= included
    mentioned = {(t, r["id"]) for t, items in synthea.resources.items() for r in items
                 if f'"{_ref(enda)}"' in json.dumps(r)}
    assert included <= mentioned


async def test_compartment_search(synthea: Loaded) -> None:
    joie = _patient(synthea, "Joie")
    found = await search_ids(synthea.client, f"Patient/{joie['id']}/Observation",
                             code="29463-7")
    assert sorted(found) == sorted(
        o["id"] for o in synthea.of("Observation")
        if o["subject"]["reference"] == _ref(joie) and concept_has(o["code"], "29463-7"))
    found = await search_ids(synthea.client, f"Patient/{joie['id']}/*")
    types = {"Observation": "subject", "Encounter": "subject", "Immunization": "patient",
             "Condition": "subject", "Procedure": "subject", "Claim": "patient"}
    for resource_type, field in types.items():
        own = {r["id"] for r in synthea.of(resource_type)
               if r[field]["reference"] == _ref(joie)}
        assert own <= set(found)
    assert joie["id"] in found
    response = await synthea.client.get(f"Patient/{joie['id']}/Organization")
    assert response.status_code == 400


async def test_system_search_over_types(synthea: Loaded) -> None:
    bundles = await _pages(synthea.client, "", _type="Patient,Practitioner", name="dr",
                           _count="2")
    found = [(e["resource"]["resourceType"], e["resource"]["id"])
             for b in bundles for e in b.get("entry", [])]
    expected = sorted(("Practitioner", p["id"]) for p in synthea.of("Practitioner")
                      if any(fold(x).startswith("dr") for n in p["name"]
                             for x in n.get("prefix", [])))
    assert found == expected and len(expected) > 2
    bundles = await _pages(synthea.client, "", _type="Patient,Organization",
                           _sort="-_lastUpdated", _count="3")
    found = [e["resource"]["id"] for b in bundles for e in b.get("entry", [])]
    assert sorted(found) == sorted(r["id"] for t in ("Patient", "Organization")
                                   for r in synthea.of(t))
    stamps = [e["resource"]["meta"]["lastUpdated"] for b in bundles for e in b["entry"]]
    assert stamps == sorted(stamps, reverse=True)


async def test_post_search_is_the_same_as_get(synthea: Loaded) -> None:
    params = {"code": "8302-2", "date": "ge2019", "_sort": "date"}
    by_get = (await synthea.client.get("Observation", params=params)).json()
    by_post = (await synthea.client.post(
        "Observation/_search", data=params,
        headers={"Content-Type": "application/x-www-form-urlencoded"})).json()
    assert _ids(by_get) == _ids(by_post) and _ids(by_get)
    assert by_get["link"][0]["url"] == by_post["link"][0]["url"]
    assert by_get["link"][0]["url"].startswith(f"{BASE}/Observation?")


async def test_restriction_narrows_matches_totals_includes_and_chains(synthea: Loaded) -> None:
    engine = synthea.app.state.services.search
    joie, eboni = _patient(synthea, "Joie"), _patient(synthea, "Eboni")

    class JoieOnly(AccessPolicy):
        async def filter(self, resource_type: str) -> dict:
            return {"search._compartments": _ref(joie)}

    restriction = JoieOnly()
    bundle = await engine.search(restriction, "Observation", [
        ("code", "29463-7"), ("_total", "accurate"), ("_include", "Observation:subject")])
    own = [o["id"] for o in synthea.of("Observation") if concept_has(o["code"], "29463-7")
           and o["subject"]["reference"] == _ref(joie)]
    assert bundle["total"] == len(own) and sorted(_ids(bundle)) == sorted(own)
    assert _ids(bundle, "include") == [joie["id"]]
    bundle = await engine.search(restriction, "Patient", [
        ("_has:Observation:patient:code", "29463-7"),
        ("_revinclude", "Encounter:subject")])
    assert _ids(bundle) == [joie["id"]]
    assert all(synthea.by_reference(f"Encounter/{i}")["subject"]["reference"] == _ref(joie)
               for i in _ids(bundle, "include"))
    chained = await engine.search(restriction, "Observation",
                                  [("subject:Patient.name", "brekke")])
    assert "entry" not in chained and eboni["id"]
