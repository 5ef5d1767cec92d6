"""``_text`` (narrative) and ``_content`` (string and markdown values), against an oracle.

https://hl7.org/fhir/R4/search.html#text; the syntax is HAPI's modified Simple Query
Syntax (``parameters/text_query.py``). The data are the 44 FHIR R4 core examples of
``tests/data/validation`` (each with a narrative). The oracle reads the narrative with an
XML parser and the string values with ``fhirpathpy`` (``descendants().ofType(string)``),
folds and splits words itself, and evaluates each case's predicate over them.
"""

from __future__ import annotations

import json
import re
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import fhirpathpy
import httpx
import pytest
from fhirpathpy.models import models
from pymongo import AsyncMongoClient

from fhir_server.config import Settings
from fhir_server.rest.app import create_app

from .conftest import BASE, search_ids

EXAMPLES = Path(__file__).parent.parent / "data" / "validation" / "fhir-r4-core-examples"
Resource = dict[str, Any]


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn").lower()


def _split(text: str) -> list[str]:
    return re.findall(r"\w+", _fold(text))


def _narrative(resource: Resource) -> list[str]:
    div = resource.get("text", {}).get("div")
    if not div:
        return []
    return [" ".join(ElementTree.fromstring(div).itertext())]


def _resource_types(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["resourceType"]] if isinstance(value.get("resourceType"), str) else []
        return own + [t for v in value.values() for t in _resource_types(v)]
    if isinstance(value, list):
        return [t for v in value for t in _resource_types(v)]
    return []


def _content(resource: Resource) -> list[str]:
    """String and markdown values (fhirpathpy also returns ``resourceType`` values)."""
    found = fhirpathpy.evaluate(resource, "descendants().ofType(string)", model=models["r4"]) + \
        fhirpathpy.evaluate(resource, "descendants().ofType(markdown)", model=models["r4"])
    for kind in _resource_types(resource):
        if kind in found:
            found.remove(kind)
    return found


class Texts:
    """The oracle's view of one resource: its values, each as a list of words."""

    def __init__(self, values: list[str]) -> None:
        self.values = [_split(v) for v in values]
        self.words = {w for value in self.values for w in value}

    def has(self, word: str) -> bool:
        return _fold(word) in self.words

    def starts(self, prefix: str) -> bool:
        return any(w.startswith(_fold(prefix)) for w in self.words)

    def phrase(self, text: str) -> bool:
        wanted = _split(text)
        return any(value[i:i + len(wanted)] == wanted
                   for value in self.values for i in range(len(value)))


Predicate = Callable[[Texts], bool]
CASES: dict[str, tuple[str, str, Predicate]] = {
    "bare term is a prefix": ("_text", "bod", lambda t: t.starts("bod")),
    "bare terms: all, each a prefix": ("_text", "vital sig", lambda t: t.starts("vital")
                                       and t.starts("sig")),
    "accents and case are folded": ("_content", "BÓDY", lambda t: t.starts("body")),
    "syntax makes terms whole words": ("_text", "body | weight",
                                       lambda t: t.has("body") or t.has("weight")),
    "plus is and": ("_text", "body + weight", lambda t: t.has("body") and t.has("weight")),
    "OR keyword": ("_text", "(head OR weight) and body",
                   lambda t: (t.has("head") or t.has("weight")) and t.has("body")),
    "negated word": ("_text", "observation -vital",
                     lambda t: t.has("observation") and not t.has("vital")),
    "only a negation": ("_content", "-patient", lambda t: not t.has("patient")),
    "NOT keyword with group": ("_text", "observation NOT (body | weight)",
                               lambda t: t.has("observation")
                               and not (t.has("body") or t.has("weight"))),
    "star is a prefix in syntax mode": ("_text", "(immun* | vacc*)",
                                        lambda t: t.starts("immun") or t.starts("vacc")),
    "phrase": ("_text", '"blood pressure"', lambda t: t.phrase("blood pressure")),
    "phrase words in another order do not match": ("_text", '"pressure blood"',
                                                   lambda t: t.phrase("pressure blood")),
    "negated phrase": ("_text", 'observation -"vital signs"',
                       lambda t: t.has("observation") and not t.phrase("vital signs")),
    "quoted word is whole": ("_content", "'vital'", lambda t: t.has("vital")),
    "punctuated term is a phrase": ("_content", "Body mass index (BMI)",
                                    lambda t: t.has("body") and t.has("mass")
                                    and t.has("index") and t.has("bmi")),
    "content of contained and extension values": ("_content", "'mother'",
                                                  lambda t: t.has("mother")),
}


def _texts(parameter: str, resource: Resource) -> Texts:
    return Texts(_narrative(resource) if parameter == "_text" else _content(resource))


@pytest.fixture(scope="module")
async def loaded(mongo_client: AsyncMongoClient, mongodb_uri: str
                 ) -> AsyncIterator[tuple[httpx.AsyncClient, list[Resource]]]:
    settings = Settings(database=f"test_text_{id(CASES)}", mongodb_uri=mongodb_uri,
                        base_url=BASE)
    app = create_app(settings, mongo_client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as client:
            stored = []
            for path in sorted(EXAMPLES.glob("*.json")):
                resource = json.loads(path.read_text())
                if resource["resourceType"] == "Bundle":
                    continue
                response = await client.put(f"{resource['resourceType']}/{resource['id']}",
                                            json=resource)
                if response.status_code in (200, 201):
                    stored.append(resource)
            assert len(stored) >= 35
            yield client, stored
    await mongo_client.drop_database(settings.database)


@pytest.mark.parametrize("name", sorted(CASES))
async def test_full_text_matches_oracle(loaded: tuple[httpx.AsyncClient, list[Resource]],
                                        name: str) -> None:
    client, stored = loaded
    parameter, query, predicate = CASES[name]
    for resource_type in sorted({r["resourceType"] for r in stored}):
        candidates = [r for r in stored if r["resourceType"] == resource_type]
        expected = sorted(r["id"] for r in candidates if predicate(_texts(parameter, r)))
        found = await search_ids(client, resource_type, **{parameter: query})
        assert sorted(found) == expected, resource_type


async def test_cases_are_not_trivial(loaded: tuple[httpx.AsyncClient, list[Resource]]) -> None:
    """Most cases select some but not all resources (the word-order case selects none)."""
    _, stored = loaded
    proper = 0
    for parameter, _, predicate in CASES.values():
        selected = sum(predicate(_texts(parameter, r)) for r in stored)
        proper += 0 < selected < len(stored)
    assert proper >= len(CASES) - 1


async def test_text_and_content_are_apart(loaded: tuple[httpx.AsyncClient, list[Resource]]
                                          ) -> None:
    """A word only in the narrative is found by ``_text`` and not by ``_content``."""
    client, stored = loaded
    only_narrative = next(
        (r, w) for r in stored for w in sorted(_texts("_text", r).words - _texts(
            "_content", r).words) if w.isalpha() and len(w) > 4)
    resource, word = only_narrative
    kind = resource["resourceType"]
    assert resource["id"] in await search_ids(client, kind, _text=f"'{word}'")
    assert resource["id"] not in await search_ids(client, kind, _content=f"'{word}'")


async def test_with_other_parameters_and_across_types(
        loaded: tuple[httpx.AsyncClient, list[Resource]]) -> None:
    client, stored = loaded
    observations = [r for r in stored if r["resourceType"] == "Observation"]
    final = [r["id"] for r in observations if r["status"] == "final"
             and _texts("_content", r).starts("vital")]
    assert sorted(await search_ids(client, "Observation", status="final", _content="vital")
                  ) == sorted(final)
    everywhere = [r["id"] for r in stored if _texts("_text", r).has("female")]
    response = await client.get("", params={"_text": "'female'", "_count": "200",
                                            "_type": "Patient,RelatedPerson,Observation"})
    assert response.status_code == 200
    found = [e["resource"]["id"] for e in response.json().get("entry", [])]
    assert sorted(found) == sorted(everywhere)


@pytest.mark.parametrize("query", ["(a | b", "a)", "()"])
async def test_malformed_queries_are_400(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get("Patient", params={"_content": query})
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_listed_in_the_capability_statement_and_not_sortable(client: httpx.AsyncClient
                                                                   ) -> None:
    capability = (await client.get("metadata")).json()
    patient = next(r for r in capability["rest"][0]["resource"] if r["type"] == "Patient")
    listed = {p["name"]: p["type"] for p in patient["searchParam"]}
    assert listed["_text"] == listed["_content"] == "special"
    response = await client.get("Patient", params={"_sort": "_content"})
    assert response.status_code == 400
