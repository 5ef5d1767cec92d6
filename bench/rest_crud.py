"""Create and read of a ~1 KB Patient through the server against the same operations done
directly with PyMongo on the same database, at a fixed concurrency.

    .venv/bin/python -m bench.rest_crud [--count 2000] [--concurrency 16]

Starts a real ``fhir-server serve`` on loopback (embedded database in a temporary data dir,
or ``MONGODB_URI`` when set) and drives it with an httpx async client. The raw side uses
``AsyncMongoClient`` with the server's own client options (w: majority, j: true) on a
separate database of the same MongoDB:

* raw insert: ``insert_one`` of the stored document shape (resource + index fields);
* raw transaction: what the repository does for a create, the current-version insert and
  the history insert in one transaction;
* raw read: ``find_one`` by ``_id``.

Prints throughput, p50/p99 latency and the server/raw ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import quantiles

import httpx
import orjson
from pymongo import AsyncMongoClient

from fhir_server.database import connect, write_options

HEADERS = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


def patient(number: int) -> dict:
    """A realistic ~1 KB Patient (identifiers, names, contacts, address, extensions)."""
    return {
        "resourceType": "Patient",
        "extension": [
            {"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
             "valueCode": "F"},
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
             "valueAddress": {"city": "Kisumu", "country": "KE"}},
        ],
        "identifier": [
            {"system": "urn:oid:2.16.404.1.1.1", "value": f"NID-{number:08d}"},
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                  "code": "MR"}]},
             "system": "urn:mch:anc-register", "value": f"ANC-{number:06d}"},
        ],
        "active": True,
        "name": [{"use": "official", "family": "Achieng", "given": ["Mary", "Atieno"]},
                 {"use": "maiden", "family": "Odhiambo"}],
        "telecom": [{"system": "phone", "value": "+254 700 000 000", "use": "mobile"}],
        "gender": "female",
        "birthDate": "1996-03-14",
        "address": [{"use": "home", "line": ["Plot 12, Nyalenda B"], "city": "Kisumu",
                     "district": "Kisumu Central", "country": "KE"}],
        "maritalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]},
        "contact": [{"relationship": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N"}]}],
            "name": {"family": "Otieno", "given": ["James"]},
            "telecom": [{"system": "phone", "value": "+254 711 111 111"}]}],
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47",
                                                    "code": "sw"}]}, "preferred": True}],
    }


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.count / self.seconds

    def percentile(self, p: int) -> float:
        return quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000

    def line(self) -> str:
        return (f"{self.name:<26} {self.throughput:>9.0f} ops/s   p50 {self.percentile(50):7.2f} ms"
                f"   p99 {self.percentile(99):7.2f} ms")


async def measure(name: str, operation: Callable[[int], Awaitable[object]], count: int,
                  concurrency: int) -> Result:
    """Run ``operation(0..count-1)`` with ``concurrency`` workers; latency of each call."""
    numbers = iter(range(count))
    latencies: list[float] = []

    async def worker() -> None:
        for number in numbers:
            start = time.perf_counter()
            await operation(number)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, count, time.perf_counter() - start, latencies)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A ``fhir-server serve`` process on loopback."""

    def __init__(self, data_dir: Path, mongodb_uri: str | None) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}/fhir"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FHIR_")}
        env.pop("MONGODB_URI", None)
        env["FHIR_DATABASE"] = "bench_server"
        if mongodb_uri:
            env["MONGODB_URI"] = mongodb_uri
        self.log = open(data_dir / "server.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fhir_server.cli", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--data-dir", str(data_dir), "--auth", "off"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_ready()
        self.mongodb_uri = mongodb_uri or json.loads(
            (data_dir / "embedded-db.json").read_text())["uri"]

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit((self.data_dir / "server.log").read_text())
            try:
                if httpx.get(f"{self.base}/metadata", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("the server did not start within 120 s")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.log.close()


async def bench_server(base: str, count: int, concurrency: int) -> tuple[Result, Result]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base + "/", limits=limits, timeout=60) as http:
        bodies = [orjson.dumps(patient(n)) for n in range(count)]
        ids: list[str] = [""] * count

        async def create(number: int) -> None:
            r = await http.post("Patient", content=bodies[number], headers=HEADERS)
            assert r.status_code == 201, r.text
            ids[number] = r.json()["id"]

        async def read(number: int) -> None:
            r = await http.get(f"Patient/{ids[number]}", headers=HEADERS)
            assert r.status_code == 200, r.text

        await measure("warm-up", lambda n: http.get("metadata"), concurrency * 2, concurrency)
        created = await measure("server create (POST)", create, count, concurrency)
        read_back = await measure("server read (GET)", read, count, concurrency)
        return created, read_back


async def bench_raw(client: AsyncMongoClient, count: int,
                    concurrency: int) -> tuple[Result, Result, Result]:
    db = client["bench_raw"]
    await db.drop_collection("Patient")
    await db.drop_collection("history")
    current, history = db["Patient"], db["history"]
    await current.insert_one({"_id": "warm-up"})
    await history.insert_one({"_id": "warm-up"})
    ids = [str(uuid.uuid4()) for _ in range(count)]

    def document(number: int) -> dict:
        return {"_id": ids[number], "vid": 1, "resource": patient(number), "search": {}}

    async def insert(number: int) -> None:
        await current.insert_one(document(number))

    async def transaction(number: int) -> None:
        async def work(session) -> None:
            doc = {**document(number), "_id": f"tx-{ids[number]}"}
            await current.insert_one(doc, session=session)
            await history.insert_one({**doc, "_id": f"Patient/{doc['_id']}/_history/1"},
                                     session=session)

        async with client.start_session() as session:
            await session.with_transaction(work, **write_options())

    async def read(number: int) -> None:
        assert await current.find_one({"_id": ids[number]}) is not None

    inserted = await measure("raw insert_one", insert, count, concurrency)
    in_transaction = await measure("raw insert x2 in a txn", transaction, count, concurrency)
    found = await measure("raw find_one", read, count, concurrency)
    await client.drop_database("bench_raw")
    return inserted, in_transaction, found


async def run(count: int, concurrency: int, mongodb_uri: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as tmp:
        server = Server(Path(tmp), mongodb_uri)
        client = connect(server.mongodb_uri)
        try:
            created, read_back = await bench_server(server.base, count, concurrency)
            raw_insert, raw_transaction, raw_find = await bench_raw(client, count, concurrency)
            await client.drop_database("bench_server")
        finally:
            await client.close()
            server.stop()
    where = "MONGODB_URI" if mongodb_uri else "embedded SecantusDB (--sync-on-commit)"
    size = len(orjson.dumps(patient(0)))
    print(f"{count} operations per row, concurrency {concurrency}, Patient of {size} bytes, "
          f"database: {where}")
    for result in (created, raw_insert, raw_transaction, read_back, raw_find):
        print(result.line())
    print("ratios server/raw (throughput; p50 latency):")
    for server_result, raw in ((created, raw_insert), (created, raw_transaction),
                               (read_back, raw_find)):
        print(f"  {server_result.name} / {raw.name}: "
              f"{server_result.throughput / raw.throughput:.2f}; "
              f"{server_result.percentile(50) / raw.percentile(50):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(run(args.count, args.concurrency, os.environ.get("MONGODB_URI")))


if __name__ == "__main__":
    main()
