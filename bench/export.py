"""Bulk ``$export`` throughput against a raw cursor over the same collection, and the
server's memory during the export.

    .venv/bin/python -m bench.export [--count 100000]

Fills a fresh database (embedded SecantusDB in a temporary data dir, or ``MONGODB_URI``)
with ``--count`` ~0.8 KB Observations of 100 patients, stored exactly as the server stores
them (current-version documents with the search index of the first one, ids changed;
written with ``insert_many``, no history: the export reads current versions only). Then,
in this process:

* raw: ``find({}, {"resource": 1})`` over the collection, each resource serialised to
  NDJSON bytes with orjson and dropped: the floor for reading and encoding;
* export: the server app (in process, ASGI) runs ``GET $export?_type=Observation`` with
  ``Prefer: respond-async``; timed from kick-off to the 200 manifest (the worker wrote the
  NDJSON to GridFS), then the file is downloaded and counted (timed separately);
* memory: this process's resident set size sampled every 20 ms during export and download;
  the figure is the peak minus the RSS just before the kick-off.

Prints resources/s of each, the raw/export ratio and the RSS growth.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import orjson

from fhir_server import clock
from fhir_server.config import Settings
from fhir_server.database import connect
from fhir_server.rest.app import create_app
from fhir_server.server import database_for
from tests.conftest import database_of

BASE = "http://bench/fhir"
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


def observation(number: int) -> dict:
    return {
        "resourceType": "Observation", "id": f"obs-{number:08d}", "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs", "display": "Vital Signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4",
                             "display": "Heart rate"}], "text": "Heart rate"},
        "subject": {"reference": f"Patient/p{number % 100}"},
        "encounter": {"reference": f"Encounter/e{number % 1000}"},
        "effectiveDateTime": "2026-03-01T10:00:00Z", "issued": "2026-03-01T10:05:00Z",
        "performer": [{"reference": "Practitioner/midwife-1"}],
        "valueQuantity": {"value": 60 + number % 60, "unit": "beats/minute",
                          "system": "http://unitsofmeasure.org", "code": "/min"},
        "note": [{"text": "Measured at rest during the antenatal visit, seated, left arm."}],
        "meta": {"versionId": "1", "lastUpdated": "2026-03-01T10:05:00.000Z"},
    }


async def fill(app, count: int) -> None:
    services = app.state.services
    index = services.search.index(observation(0))
    collection = database_of(services)["Observation"]
    now = clock.now()
    batch = []
    for number in range(count):
        resource = observation(number)
        search = {**index, "_compartments": [resource["subject"]["reference"],
                                             resource["encounter"]["reference"]]}
        batch.append({"_id": resource["id"], "vid": 1, "lastUpdated": now,
                      "resource": resource, "search": search})
        if len(batch) == 2000:
            await collection.insert_many(batch)
            batch = []
    if batch:
        await collection.insert_many(batch)


async def raw(app) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    size = 0
    async for document in database_of(app)["Observation"].find(
            {}, {"resource": 1}).batch_size(1000):
        size += len(orjson.dumps(document["resource"])) + 1
        count += 1
    return count, time.perf_counter() - started


async def sample(peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss())
        await asyncio.sleep(0.02)


async def export(app) -> dict:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE + "/",
                                 timeout=600) as client:
        app.state.export.timings.min_poll = timedelta(0)
        before = rss()
        peak = [before]
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample(peak, stop))
        started = time.perf_counter()
        kick = await client.get("$export?_type=Observation", headers=ASYNC)
        status = kick.headers["content-location"]
        while (response := await client.get(status)).status_code == 202:
            await asyncio.sleep(0.2)
        exported = time.perf_counter() - started
        manifest = response.json()
        started = time.perf_counter()
        lines = 0
        async with client.stream("GET", manifest["output"][0]["url"]) as stream:
            async for chunk in stream.aiter_bytes():
                lines += chunk.count(b"\n")
        downloaded = time.perf_counter() - started
        stop.set()
        await sampler
    return {"count": manifest["output"][0]["count"], "lines": lines, "export_s": exported,
            "download_s": downloaded, "rss_before": before, "rss_peak": peak[0]}


async def main(count: int, settings: Settings) -> None:
    mongo = connect(settings.mongodb_uri or "")
    app = create_app(settings, mongo)
    try:
        async with app.router.lifespan_context(app):
            started = time.perf_counter()
            await fill(app, count)
            print(f"filled {count} Observations in {time.perf_counter() - started:.1f} s")
            raw_count, raw_s = await raw(app)
            result = await export(app)
    finally:
        await mongo.drop_database(settings.database)
        await mongo.close()
    assert result["count"] == result["lines"] == raw_count == count, result
    raw_rate = raw_count / raw_s
    export_rate = count / result["export_s"]
    print(f"raw cursor + orjson: {raw_rate:,.0f} resources/s ({raw_s:.1f} s)")
    print(f"$export to GridFS:   {export_rate:,.0f} resources/s ({result['export_s']:.1f} s)"
          f"; raw/export {raw_rate / export_rate:.1f}x")
    print(f"download:            {count / result['download_s']:,.0f} resources/s "
          f"({result['download_s']:.1f} s)")
    growth = (result["rss_peak"] - result["rss_before"]) / 2**20
    print(f"RSS before {result['rss_before'] / 2**20:.0f} MB, peak "
          f"{result['rss_peak'] / 2**20:.0f} MB, growth {growth:.0f} MB")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-export-"))
    settings = Settings(data_dir=data_dir, mongodb_uri=os.environ.get("MONGODB_URI"),
                        database=f"bench_export_{uuid.uuid4().hex[:8]}", base_url=BASE)
    database = database_for(settings)
    try:
        asyncio.run(main(args.count, settings))
    finally:
        if database is not None:
            database.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    run()
