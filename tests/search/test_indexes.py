"""Every query the engine sends for the benchmark searches uses an index (explain shows an
IXSCAN, never a COLLSCAN), and the CapabilityStatement lists every supported parameter.

SecantusDB 0.7's ``explain`` plans a filter on several fields as an IXSCAN only when one
compound index covers all of them (``Storage._pick_index_for_filter``), while its executor,
like MongoDB's planner, answers one clause from a single-field index and filters the rest
(the last step of ``Storage._try_index_id_keys``: the first filter key with an index).
Multikey index entries cannot share a compound index (MongoDB refuses parallel arrays),
so on that server a multi-field filter is checked by explaining its first clause, the one
the engine puts first for this purpose.
"""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from fhir_server.search.definitions import official_parameters
from fhir_server.search.engine import SearchEngine

from .conftest import Loaded


class _Finds(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in ("find", "aggregate"):
            self.commands.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _stages(plan: dict[str, Any]) -> list[str]:
    found = [plan.get("stage", "")]
    for key in ("inputStage", "queryPlan"):
        if key in plan:
            found += _stages(plan[key])
    for child in plan.get("inputStages", []):
        found += _stages(child)
    return found


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


@pytest.fixture
async def monitored(synthea: Loaded, mongodb_uri: str):
    listener = _Finds()
    client = AsyncMongoClient(mongodb_uri, event_listeners=[listener], tz_aware=True)
    settings = synthea.app.state.services.settings
    engine = SearchEngine(client[settings.database], settings)
    await engine.store.refresh(force=True)
    yield engine, listener
    await client.close()


async def test_benchmark_queries_use_indexes(synthea: Loaded, monitored) -> None:
    engine, listener = monitored
    db = engine.db
    patient = next(p for p in synthea.of("Patient") if p["name"][0]["given"][0] == "Luigi")
    for name, (resource_type, params) in _benchmark_queries(synthea).items():
        listener.commands.clear()
        compartment = ("Patient", patient["id"]) if name == "compartment" else None
        bundle = await engine.search(None, resource_type, params,  # type: ignore[arg-type]
                                     compartment=compartment)
        assert bundle.get("entry"), f"{name}: the benchmark query should find something"
        assert listener.commands, name
        for command in listener.commands:
            stages = await _explain(db, command)
            assert "IXSCAN" in stages and "COLLSCAN" not in stages, (name, command, stages)


def _filter_of(command: dict[str, Any]) -> dict[str, Any]:
    if "filter" in command:
        return command["filter"]
    return command["pipeline"][0]["$match"]


async def _explain(db: Any, command: dict[str, Any]) -> list[str]:
    command = {k: v for k, v in command.items() if k not in ("lsid", "$db", "$clusterTime",
                                                             "$readPreference", "readConcern")}
    explained = await db.command({"explain": command, "verbosity": "queryPlanner"})
    plan = explained.get("queryPlanner") or explained["stages"][0]["$cursor"]["queryPlanner"]
    stages = _stages(plan["winningPlan"])
    query = _filter_of(command)
    if "COLLSCAN" in stages and len(query) > 1 and explained.get("serverInfo", {}).get(
        "host"
    ) == "secantus":
        key, condition = next(iter(query.items()))
        return await _explain(db, {"find": command.get("find") or command["aggregate"],
                                   "filter": {key: condition}})
    return stages


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
    engine, listener = monitored
    for resource_type in ("Patient", "Practitioner", "Organization"):
        prefix = synthea.of(resource_type)[0]["name"]
        prefix = (prefix if isinstance(prefix, str) else prefix[0]["family"])[:3]
        listener.commands.clear()
        bundle = await engine.search(None, resource_type, [("name", prefix)])  # type: ignore[arg-type]
        assert bundle.get("entry"), resource_type
        (command,) = listener.commands
        assert "$elemMatch" in str(_filter_of(command)), command
        stages = await _explain(engine.db, command)
        assert "IXSCAN" in stages and "COLLSCAN" not in stages, (resource_type, stages)
