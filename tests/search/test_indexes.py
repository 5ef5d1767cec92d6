"""Every query the engine sends for the benchmark searches uses an index (explain shows an
IXSCAN, never a COLLSCAN), and the CapabilityStatement lists every supported parameter.
How explain is read on the embedded database: see ``bench/explain.py``.
"""

from __future__ import annotations

from bench.explain import examined
from fhir_server.access import SYSTEM
from fhir_server.search.definitions import official_parameters
from fhir_server.storage.search_indexes import word_indexes_built

from .conftest import Loaded


def _benchmark_queries(data: Loaded) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    patient = next(p for p in data.of("Patient") if p["name"][0]["given"][0] == "Luigi")
    identifier = patient["identifier"][2]
    year = int(data.of("Observation")[0]["effectiveDateTime"][:4])
    return {
        "patient by name prefix": ("Patient", [("name", "wieg")]),
        "patient by identifier": ("Patient", [
            ("identifier", f"{identifier['system']}|{identifier['value']}")]),
        "observations of a patient by code, newest first": ("Observation", [
            ("subject", f"Patient/{patient['id']}"), ("code", "http://loinc.org|8302-2"),
            ("_sort", "-date"), ("_count", "20")]),
        "observation by code and value range": ("Observation", [
            ("code", "http://loinc.org|29463-7"),
            ("value-quantity", "gt20|http://unitsofmeasure.org|kg")]),
        "observation by date range": ("Observation", [("date", f"ge{year}-01-01"),
                                                      ("date", f"lt{year + 1}-01-01")]),
        "observation with its patient": ("Observation", [
            ("code", "http://loinc.org|2093-3"), ("_include", "Observation:patient")]),
        "patient with observations": ("Patient", [
            ("family", "wieg"), ("_revinclude", "Observation:patient")]),
        "chained search": ("Observation", [("patient.name", "wieg"),
                                           ("code", "http://loinc.org|8302-2")]),
        "reverse chain": ("Patient", [("_has:Observation:patient:code", "2093-3")]),
        "accurate total": ("Observation", [("code", "http://loinc.org|8302-2"),
                                           ("_total", "accurate"), ("_count", "5")]),
        "compartment": ("Observation", [("code", "http://loinc.org|8302-2")]),
    }


async def test_benchmark_queries_use_indexes(synthea: Loaded, monitored) -> None:
    engine, db, listener = monitored
    patient = next(p for p in synthea.of("Patient") if p["name"][0]["given"][0] == "Luigi")
    for name, (resource_type, params) in _benchmark_queries(synthea).items():
        listener.commands.clear()
        compartment = ("Patient", patient["id"]) if name == "compartment" else None
        bundle = await engine.search(SYSTEM, resource_type, params,
                                     compartment=compartment)
        assert bundle.get("entry"), f"{name}: the benchmark query should find something"
        assert listener.commands, name
        for _, command in listener.commands:
            plan = await examined(db.client, db.name, command)
            assert plan.plan == "IXSCAN", (name, command, plan)


async def test_capability_lists_every_supported_parameter(synthea: Loaded) -> None:
    capability = (await synthea.client.get("metadata")).json()
    resources = {r["type"]: r for r in capability["rest"][0]["resource"]}
    listed = {(t, p["definition"]) for t, r in resources.items()
              for p in r.get("searchParam", [])}
    missing = []
    for parameter in official_parameters():
        if not parameter.expression or parameter.type == "special":
            continue
        bases = resources if "Resource" in parameter.base or (
            "DomainResource" in parameter.base) else parameter.base
        for base in bases:
            if base in resources and (base, parameter.url) not in listed:
                if not ("DomainResource" in parameter.base and base in ("Bundle", "Binary",
                                                                         "Parameters")):
                    missing.append((base, parameter.code))
    assert missing == []
    observation = {p["name"]: p for p in resources["Observation"]["searchParam"]}
    assert observation["code-value-quantity"]["type"] == "composite"
    assert {"_id", "_lastUpdated", "_tag", "_profile", "_security", "_source"} <= set(
        observation)


async def test_string_prefix_on_one_value_still_uses_the_index(synthea: Loaded, monitored
                                                               ) -> None:
    """The ``$elemMatch`` that keeps a prefix range on one name part comes with a flat copy
    of the range that the ``name`` index answers (``parameters.one_value_range``)."""
    engine, db, listener = monitored
    for resource_type in ("Patient", "Practitioner", "Organization"):
        prefix = synthea.of(resource_type)[0]["name"]
        prefix = (prefix if isinstance(prefix, str) else prefix[0]["family"])[:3]
        listener.commands.clear()
        bundle = await engine.search(SYSTEM, resource_type, [("name", prefix)])
        assert bundle.get("entry"), resource_type
        (command,) = [c for _, c in listener.commands if c.get("find") == resource_type]
        assert "$elemMatch" in str(command["filter"]), command
        plan = await examined(db.client, db.name, command)
        assert plan.plan == "IXSCAN", (resource_type, plan)


async def test_full_text_words_are_indexed_once_searched(synthea: Loaded, monitored) -> None:
    """The first ``_content``/``_text`` search on a collection builds the index on its words
    (``indexes.start_word_index``); from then on word queries use it (Synthea writes no
    narratives, so ``_text`` finds nothing here: its plan is what is checked)."""
    engine, db, listener = monitored
    for code, word in (("_content", "body"), ("_text", "body")):
        await engine.search(SYSTEM, "Observation", [(code, word)])
        await word_indexes_built()
        names = {i["name"] async for i in await db["Observation"].list_indexes()}
        assert f"{code}.w" in names
        for value in (word, f"'{word}'", f'"{word} height"'):
            listener.commands.clear()
            bundle = await engine.search(SYSTEM, "Observation", [(code, value)])
            assert bool(bundle.get("entry")) == (code == "_content"), (code, value)
            (command,) = [c for _, c in listener.commands if c.get("find") == "Observation"]
            plan = await examined(db.client, db.name, command)
            assert plan.plan == "IXSCAN", (code, value, plan)
