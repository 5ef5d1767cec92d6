"""Search engine against the best hand-written PyMongo query, on the same database.

    .venv/bin/python -m bench.search [--copies 20] [--iterations 25]

Loads the 13 Synthea bundles of ``tests/data/synthea`` ``--copies`` times (each copy with
new ids, references and identifiers; Organizations and Practitioners shared), writing the
documents the repository writes (resource + ``search`` index from ``SearchEngine.index``)
straight into MongoDB with ``insert_many`` (no history, no transactions: only search is
measured). Then, for each query of the issue's mix, it times ``SearchEngine.search`` (parse,
compile, query, includes, Bundle) and the same question asked of MongoDB directly on the
raw ``resource`` fields with purpose-built indexes, alternating the two with different
sample values. Prints p50/p99 and the engine/hand-written ratios, plus the index
extraction cost per resource, then, for one run of each side, what the database examined
(``explain``, executionStats: plan, keys and documents examined per result returned; see
``bench/explain.py``). Uses the embedded database in a temporary directory, or
``MONGODB_URI`` when set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from statistics import median, quantiles
from typing import Any

from pymongo import AsyncMongoClient

from bench.embedded import temporary_database
from bench.explain import Recorder, examined
from fhir_server import clock
from fhir_server.access import SYSTEM
from fhir_server.config import Settings
from fhir_server.json_io import dump_json, to_bson
from fhir_server.search.custom import RegistryStore
from fhir_server.search.engine import SearchEngine
from fhir_server.search.index import index_resource
from fhir_server.search.parameters import IndexContext
from fhir_server.storage import Storage
from fhir_server.storage.search_registry import SearchRegistryDocument

BUNDLES = Path(__file__).parent.parent / "tests" / "data" / "synthea" / "bundles"
SHARED = ("Organization", "Practitioner")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SSN = "http://hl7.org/fhir/sid/us-ssn"


def _originals() -> list[list[dict[str, Any]]]:
    bundles = []
    for path in sorted(BUNDLES.glob("*/*.json")):
        bundle = json.loads(path.read_text(), parse_float=Decimal)
        text = dump_json(bundle).decode().replace("urn:uuid:", "")
        resources = []
        for entry in json.loads(text, parse_float=Decimal)["entry"]:
            resource = entry["resource"]
            resource["id"] = entry["fullUrl"]
            resources.append(resource)
        bundles.append(resources)
    return bundles


def _typed_references(resources: list[dict[str, Any]]) -> dict[str, str]:
    return {r["id"]: f"{r['resourceType']}/{r['id']}" for r in resources}


def _copy(resources: list[dict[str, Any]], number: int, shared: set[str]) -> list[dict]:
    """One copy of a bundle: new ids (and identifiers), references rewritten."""
    types = _typed_references(resources)
    text = dump_json(resources).decode()
    text = re.sub(r'"reference":"(' + UUID.pattern + ')"',
                  lambda m: f'"reference":"{types.get(m.group(1), m.group(1))}"', text)
    text = UUID.sub(lambda m: m.group(0) if m.group(0) in shared
                    else f"{m.group(0)[:30]}{number:06d}", text)
    copies = json.loads(text, parse_float=Decimal)
    for resource in copies:
        for identifier in resource.get("identifier", []):
            if identifier.get("system") == SSN:
                identifier["value"] = f"{identifier['value']}-{number}"
    return [r for r in copies if number == 0 or r["id"] not in shared]


@dataclass
class Loaded:
    counts: dict[str, int]
    extraction_seconds: dict[str, float]
    patients: list[dict[str, Any]]
    months: list[str]
    seconds: float


def engine_on(db: Any, settings: Settings) -> tuple[SearchEngine, Storage]:
    """The server's search engine and storage on ``db`` (what ``build_services`` wires)."""
    store = RegistryStore(SearchRegistryDocument(db))
    context = IndexContext(settings.fhir_base)
    storage = Storage.open(db, settings.fhir_base,
                           lambda resource: index_resource(store.registry, resource, context))
    return SearchEngine(storage.queries, store, settings), storage


async def load(db: Any, engine: SearchEngine, copies: int) -> Loaded:
    originals = _originals()
    shared = {r["id"] for b in originals for r in b if r["resourceType"] in SHARED}
    counts: dict[str, int] = defaultdict(int)
    extraction: dict[str, float] = defaultdict(float)
    patients = []
    started = time.perf_counter()
    moment = clock.now()
    written: set[str] = set()
    for number in range(copies):
        documents: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for bundle in originals:
            for resource in _copy(bundle, number, shared):
                resource_type = resource["resourceType"]
                if resource["id"] in written:
                    continue
                written.add(resource["id"])
                resource["meta"] = {"versionId": "1", "lastUpdated": clock.to_instant(moment),
                                    **resource.get("meta", {})}
                cpu = time.process_time()
                index = engine.index(resource)
                extraction[resource_type] += time.process_time() - cpu
                documents[resource_type].append({
                    "_id": resource["id"], "vid": 1, "lastUpdated": moment,
                    "resource": to_bson(resource), "search": index})
                counts[resource_type] += 1
                if resource_type == "Patient":
                    patients.append(resource)
        for resource_type, batch in documents.items():
            await db[resource_type].insert_many(batch, ordered=False)
        print(f"  copy {number + 1}/{copies}: {sum(counts.values())} resources "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    months = sorted({r["effectiveDateTime"][:7] for b in originals for r in b
                     if "effectiveDateTime" in r})
    return Loaded(dict(counts), dict(extraction), patients, months,
                  time.perf_counter() - started)


HAND_INDEXES = {
    "Patient": [[("resource.name.family", 1)], [("resource.identifier.value", 1)]],
    "Observation": [[("resource.subject.reference", 1), ("resource.effectiveDateTime", -1)],
                    [("resource.code.coding.code", 1)], [("resource.effectiveDateTime", 1)]],
}


async def hand_indexes(db: Any) -> None:
    for resource_type, keys in HAND_INDEXES.items():
        for key in keys:
            await db[resource_type].create_index(key)


def _ssn(patient: dict[str, Any]) -> str:
    return next(i["value"] for i in patient["identifier"] if i.get("system") == SSN)


Runner = Callable[[int], Awaitable[list[str]]]


def queries(engine: SearchEngine, db: Any, data: Loaded
            ) -> dict[str, tuple[Runner, Runner]]:
    patients = data.patients
    families = sorted({p["name"][0]["family"] for p in patients})

    def patient(i: int) -> dict[str, Any]:
        return patients[(i * 7919) % len(patients)]

    async def search(resource_type: str, params: list[tuple[str, str]]) -> list[str]:
        bundle = await engine.search(SYSTEM, resource_type, params)
        return [f"{e['resource']['resourceType']}/{e['resource']['id']}"
                for e in bundle.get("entry", [])]

    async def find(resource_type: str, query: dict[str, Any], sort: Any = (("_id", 1),),
                   limit: int = 20) -> list[dict[str, Any]]:
        cursor = db[resource_type].find(query)
        return await (cursor.sort(list(sort)) if sort else cursor).limit(limit).to_list()

    def keys(docs: list[dict[str, Any]]) -> list[str]:
        return [f"{d['resource']['resourceType']}/{d['_id']}" for d in docs]

    async def by_ids(resource_type: str, ids: list[str]) -> list[dict[str, Any]]:
        return await db[resource_type].find({"_id": {"$in": ids}}).to_list()

    def family(i: int) -> str:
        return families[i % len(families)][:4]

    async def hand_name(i: int) -> list[str]:
        prefix = family(i)
        return keys(await find("Patient", {"resource.name.family": {
            "$gte": prefix, "$lt": prefix + "\uffff"}}))

    async def hand_identifier(i: int) -> list[str]:
        return keys(await find("Patient", {"resource.identifier.value": _ssn(patient(i)),
                                          "resource.identifier.system": SSN}))

    async def hand_subject_code(i: int) -> list[str]:
        return keys(await find("Observation", {
            "resource.subject.reference": f"Patient/{patient(i)['id']}",
            "resource.code.coding.code": "8302-2"},
            [("resource.effectiveDateTime", -1), ("_id", 1)]))

    async def hand_value(i: int) -> list[str]:
        return keys(await find("Observation", {"resource.code.coding.code": "29463-7",
                                              "resource.valueQuantity.value": {"$gt": 40 + i % 5}}))

    def month(i: int) -> tuple[str, str]:
        chosen = data.months[(i * 37) % len(data.months)]
        year, number = int(chosen[:4]), int(chosen[5:])
        return chosen, f"{year + number // 12}-{number % 12 + 1:02d}"

    async def hand_dates(i: int) -> list[str]:
        start, end = month(i)
        return keys(await find("Observation", {"resource.effectiveDateTime": {
            "$gte": start, "$lt": end}}))

    async def hand_include(i: int) -> list[str]:
        found = await find("Observation", {"resource.code.coding.code": "2093-3"})
        ids = sorted({d["resource"]["subject"]["reference"].split("/")[1] for d in found})
        return keys(found) + keys(await by_ids("Patient", ids))

    async def hand_revinclude(i: int) -> list[str]:
        found = await find("Patient", {"resource.identifier.value": _ssn(patient(i))})
        references = [f"Patient/{d['_id']}" for d in found]
        observations = await find("Observation", {"resource.subject.reference": {
            "$in": references}}, sort=(), limit=1000)
        return keys(found) + keys(observations)

    async def hand_chain(i: int) -> list[str]:
        found = await find("Patient", {"resource.identifier.value": _ssn(patient(i))})
        return keys(await find("Observation", {
            "resource.subject.reference": {"$in": [f"Patient/{d['_id']}" for d in found]},
            "resource.code.coding.code": "8302-2"}))

    async def hand_has(i: int) -> list[str]:
        found = await db["Observation"].find({"resource.code.coding.code": "2093-3"},
                                             {"resource.subject": 1}).to_list()
        ids = sorted({d["resource"]["subject"]["reference"].split("/")[1] for d in found})
        return keys(await find("Patient", {"_id": {"$in": ids}}))

    async def hand_total(i: int) -> list[str]:
        query = {"resource.code.coding.code": "8302-2"}
        await db["Observation"].count_documents(query)
        return keys(await find("Observation", query))

    return {
        "Patient?name=[prefix]": (
            lambda i: search("Patient", [("name", family(i).lower())]), hand_name),
        "Patient?identifier=[ssn]": (
            lambda i: search("Patient", [("identifier", f"{SSN}|{_ssn(patient(i))}")]),
            hand_identifier),
        "Observation?subject&code&_sort=-date&_count=20": (
            lambda i: search("Observation", [
                ("subject", f"Patient/{patient(i)['id']}"), ("code", "http://loinc.org|8302-2"),
                ("_sort", "-date"), ("_count", "20")]), hand_subject_code),
        "Observation?code&value-quantity=gt": (
            lambda i: search("Observation", [
                ("code", "http://loinc.org|29463-7"),
                ("value-quantity", f"gt{40 + i % 5}|http://unitsofmeasure.org|kg")]),
            hand_value),
        "Observation?date=[month]": (
            lambda i: search("Observation", [("date", month(i)[0])]), hand_dates),
        "Observation?date=ge&date=lt": (
            lambda i: search("Observation", [("date", f"ge{month(i)[0]}"),
                                             ("date", f"lt{month(i)[1]}")]), hand_dates),
        "Observation?code&_include=Observation:patient": (
            lambda i: search("Observation", [("code", "http://loinc.org|2093-3"),
                                             ("_include", "Observation:patient")]),
            hand_include),
        "Patient?identifier&_revinclude=Observation:patient": (
            lambda i: search("Patient", [("identifier", f"{SSN}|{_ssn(patient(i))}"),
                                         ("_revinclude", "Observation:patient")]),
            hand_revinclude),
        "Observation?patient.identifier&code (chain)": (
            lambda i: search("Observation", [("patient.identifier", f"{SSN}|{_ssn(patient(i))}"),
                                             ("code", "http://loinc.org|8302-2")]), hand_chain),
        "Patient?_has:Observation:patient:code": (
            lambda i: search("Patient", [("_has:Observation:patient:code",
                                          "http://loinc.org|2093-3")]), hand_has),
        "Observation?code&_total=accurate": (
            lambda i: search("Observation", [("code", "http://loinc.org|8302-2"),
                                             ("_total", "accurate")]), hand_total),
    }


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = quantiles(samples, n=100, method="inclusive")
    return median(samples) * 1000, cuts[98] * 1000


async def measure(runners: dict[str, tuple[Runner, Runner]], iterations: int) -> None:
    print(f"\n{'query':52} {'engine p50':>10} {'p99':>8} {'hand p50':>9} {'p99':>8} "
          f"{'ratio p50':>9} {'p99':>6}  entries")
    for name, (engine, hand) in runners.items():
        await engine(0)
        await hand(0)
        timings: dict[str, list[float]] = {"engine": [], "hand": []}
        same = True
        sizes = []
        for i in range(iterations):
            results = {}
            for side, runner in (("engine", engine), ("hand", hand)):
                started = time.perf_counter()
                results[side] = await runner(i)
                timings[side].append(time.perf_counter() - started)
            same = same and sorted(results["engine"]) == sorted(results["hand"])
            sizes.append(len(results["engine"]))
        e50, e99 = _percentiles(timings["engine"])
        h50, h99 = _percentiles(timings["hand"])
        print(f"{name:52} {e50:8.1f}ms {e99:6.1f}ms {h50:7.1f}ms {h99:6.1f}ms "
              f"{e50 / h50:8.2f}x {e99 / h99:5.2f}x  {median(sizes):.0f} "
              f"{'same' if same else 'DIFFERENT'}", flush=True)


async def explain_all(runners: dict[str, tuple[Runner, Runner]], client: Any,
                      recorder: Recorder) -> None:
    """Per query and side: the plans and what the database examined per result."""
    print(f"\n{'query':52} {'side':6} {'plan (index)':48} {'keys':>6} {'docs':>6} "
          f"{'returned':>8} {'docs/result':>11}")
    for name, sides in runners.items():
        for side, runner in zip(("engine", "hand"), sides, strict=True):
            recorder.commands.clear()
            await runner(1)
            commands = [(d, c) for d, c in recorder.commands  # resource collections only
                        if str(c.get("find") or c.get("aggregate") or c.get("count"))[:1]
                        .isupper()]
            keys = docs = returned = 0
            plans = []
            for database, command in commands:
                found = await examined(client, database, command)
                keys, docs, returned = keys + found.keys, docs + found.docs, (
                    returned + found.returned)
                plans.append(f"{found.plan}({found.index})" if found.index else found.plan)
            per = f"{docs / returned:.1f}" if returned else "-"
            print(f"{name:52} {side:6} {' + '.join(plans)[:48]:48} {keys:6d} {docs:6d} "
                  f"{returned:8d} {per:>11}", flush=True)


async def run(uri: str, copies: int, iterations: int, drop: bool) -> None:
    recorder = Recorder()
    client: AsyncMongoClient = AsyncMongoClient(
        uri, w="majority", journal=True, readConcernLevel="majority", tz_aware=True,
        uuidRepresentation="standard", event_listeners=[recorder])
    database = f"bench_search_{uuid.uuid4().hex[:8]}"
    settings = Settings(database=database, mongodb_uri=uri, base_url="http://bench/fhir")
    db = client[database]
    engine, storage = engine_on(db, settings)
    try:
        await storage.ensure_indexes()
        await hand_indexes(db)
        print(f"loading {copies} copies of the Synthea bundles ...", flush=True)
        data = await load(db, engine, copies)
        total = sum(data.counts.values())
        cpu = sum(data.extraction_seconds.values())
        print(f"loaded {total} resources ({data.counts.get('Observation', 0)} Observations, "
              f"{data.counts.get('Patient', 0)} Patients) in {data.seconds:.0f} s")
        print(f"index extraction: {cpu / total * 1e6:.0f} µs CPU per resource on average; "
              + ", ".join(f"{t} {data.extraction_seconds[t] / n * 1e6:.0f} µs"
                          for t, n in sorted(data.counts.items(), key=lambda x: -x[1])[:6]))
        runners = queries(engine, db, data)
        await measure(runners, iterations)
        await explain_all(runners, client, recorder)
    finally:
        if drop:  # a temporary embedded database goes away with its directory
            await client.drop_database(database)
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=25)
    args = parser.parse_args()
    uri = os.environ.get("MONGODB_URI")
    if uri:
        asyncio.run(run(uri, args.copies, args.iterations, drop=True))
        return
    with temporary_database("bench-search-") as database:
        asyncio.run(run(database.uri, args.copies, args.iterations, drop=False))


if __name__ == "__main__":
    main()
