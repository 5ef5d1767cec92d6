"""Create and read of a ~1 KB Patient through the server against the same operations done
directly with PyMongo on the same database, at a fixed concurrency.

    .venv/bin/python -m bench.rest_crud [--count 1000] [--concurrency 16]

Starts a real ``fhir-server serve`` on loopback (embedded database in a temporary data dir,
or ``MONGODB_URI`` when set) and drives it with an httpx async client. The raw side uses
``AsyncMongoClient`` with the server's own client options (w: majority, j: true) and
replays what the server did, with the documents it stored (under new ids):

* raw create: the current-version insert and the history insert in one transaction, into
  the server's collections (so with the same search indexes);
* raw read: the server's ``find_one`` by ``_id`` (without the index fields);
* raw insert, _id only: the same document into a collection with no other index, to show
  what the search indexes cost.

Prints throughput, p50/p99 latency, the CPU time the server and the embedded database
processes spent per operation (robust on a busy machine, where wall-clock figures vary a
lot) and the server/raw ratios.
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
from dataclasses import dataclass, field
from pathlib import Path
from statistics import quantiles

import httpx
import orjson
from pymongo import AsyncMongoClient

from fhir_server.database import connect
from fhir_server.storage.documents import write_options

HEADERS = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
SERVER_DATABASE = "bench_server"
SERVE_OPTIONS = {"FHIR_HOST", "FHIR_PORT", "FHIR_DATA_DIR", "FHIR_AUTH", "FHIR_BASE_URL",
                 "FHIR_DATABASE", "FHIR_MLLP_PORT", "MONGODB_URI"}  # set by the bench


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds used
    commands: dict[str, int] = field(default_factory=dict)  # database opcounters delta

    @property
    def throughput(self) -> float:
        return self.count / self.seconds

    def percentile(self, p: int) -> float:
        return quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000

    def line(self) -> str:
        cpu = "".join(f"   {name} CPU {seconds / self.count * 1000:5.2f} ms/op"
                      for name, seconds in self.cpu.items())
        commands = " ".join(f"{name} {number / self.count:.1f}"
                            for name, number in self.commands.items() if number)
        return (f"{self.name:<24} {self.throughput:>6.0f} ops/s   p50 {self.percentile(50):7.2f}"
                f" ms   p99 {self.percentile(99):7.2f} ms{cpu}   db ops/op: {commands}")


async def opcounters(client: AsyncMongoClient) -> dict[str, int]:
    return dict((await client.admin.command("serverStatus"))["opcounters"])


async def idle_operations(client: AsyncMongoClient, seconds: float = 5) -> dict[str, float]:
    """Database operations per second while no request arrives (background work)."""
    before = await opcounters(client)
    await asyncio.sleep(seconds)
    after = await opcounters(client)
    rates = {k: (after[k] - before.get(k, 0)) / seconds for k in after}
    rates["command"] -= 1 / seconds  # the serverStatus itself
    return rates


async def measure(name: str, operation: Callable[[int], Awaitable[object]], count: int,
                  concurrency: int, processes: dict[str, int],
                  client: AsyncMongoClient) -> Result:
    """Run ``operation(0..count-1)`` with ``concurrency`` workers; latency of each call, the
    CPU time the named ``processes`` spent meanwhile and the database operations counted."""
    numbers = iter(range(count))
    latencies: list[float] = []
    cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    commands_before = await opcounters(client)

    async def worker() -> None:
        for number in numbers:
            start = time.perf_counter()
            await operation(number)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in processes.items()}
    commands_after = await opcounters(client)
    commands = {k: commands_after[k] - commands_before.get(k, 0) for k in commands_after}
    commands["command"] -= 2  # the serverStatus calls themselves
    return Result(name, count, elapsed, latencies, cpu, commands)


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
        env = {k: v for k, v in os.environ.items() if k not in SERVE_OPTIONS}
        env["FHIR_DATABASE"] = SERVER_DATABASE
        if mongodb_uri:
            env["MONGODB_URI"] = mongodb_uri
        self.log = open(data_dir / "server.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fhir_server.cli", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--data-dir", str(data_dir), "--auth", "off"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_ready()
        state = None if mongodb_uri else json.loads((data_dir / "embedded-db.json").read_text())
        self.mongodb_uri = mongodb_uri or state["uri"]
        self.processes = {"server": self.process.pid}
        if state:
            self.processes["db"] = state["pid"]

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

    def background(self, seconds: float = 5) -> dict[str, float]:
        """CPU seconds per second each process spends while no request arrives."""
        before = {name: cpu_seconds(pid) for name, pid in self.processes.items()}
        time.sleep(seconds)
        return {name: (cpu_seconds(pid) - before[name]) / seconds
                for name, pid in self.processes.items()}

    def wait_idle(self, timeout: float = 600) -> float:
        """Wait until the server and its database stop working in the background (startup
        tasks such as storing the shipped terminology); the seconds waited."""
        start = time.monotonic()
        quiet = 0
        while quiet < 3 and time.monotonic() - start < timeout:
            before = sum(cpu_seconds(pid) for pid in self.processes.values())
            time.sleep(1)
            used = sum(cpu_seconds(pid) for pid in self.processes.values()) - before
            quiet = quiet + 1 if used < 0.05 else 0
        return time.monotonic() - start

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.log.close()


async def bench_server(base: str, count: int, concurrency: int, processes: dict[str, int],
                       client: AsyncMongoClient) -> tuple[Result, Result]:
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

        await measure("warm-up", lambda n: http.get("metadata"), concurrency * 2, concurrency,
                      processes, client)
        created = await measure("server create (POST)", create, count, concurrency, processes,
                                client)
        read_back = await measure("server read (GET)", read, count, concurrency, processes,
                                  client)
        return created, read_back


async def bench_raw(client: AsyncMongoClient, count: int, concurrency: int,
                    processes: dict[str, int]) -> list[Result]:
    """The server's own writes and reads replayed with PyMongo: the documents the server
    stored (new ids), into its collections and indexes; and, for scale, into a plain
    collection with only the ``_id`` index."""
    db = client[SERVER_DATABASE]
    current, history = db["Patient"], db["history"]
    stored = await current.find({}).limit(count).to_list()
    versions = {d["id"]: d for d in await history.find({"type": "Patient"}).to_list()}
    plain = client["bench_raw"]["Patient"]
    await plain.insert_one({"_id": "warm-up"})
    ids = [str(uuid.uuid4()) for _ in range(count)]

    def document(number: int) -> dict:
        return {**stored[number % len(stored)], "_id": ids[number]}

    def version(number: int) -> dict:
        original = versions[stored[number % len(stored)]["_id"]]
        return {**original, "_id": f"Patient/{ids[number]}/_history/000000000001",
                "id": ids[number]}

    async def insert_plain(number: int) -> None:
        await plain.insert_one({**document(number), "_id": f"plain-{ids[number]}"})

    async def create(number: int) -> None:
        async def work(session) -> None:
            await current.insert_one(document(number), session=session)
            await history.insert_one(version(number), session=session)

        async with client.start_session() as session:
            await session.with_transaction(work, **write_options())

    async def read(number: int) -> None:
        assert await current.find_one({"_id": ids[number]}, {"search": 0}) is not None

    results = [
        await measure("raw insert, _id only", insert_plain, count, concurrency, processes,
                      client),
        await measure("raw create (same txn)", create, count, concurrency, processes, client),
        await measure("raw read (same find)", read, count, concurrency, processes, client),
    ]
    await client.drop_database("bench_raw")
    return results


async def run(count: int, concurrency: int, mongodb_uri: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as tmp:
        server = Server(Path(tmp), mongodb_uri)
        client = connect(server.mongodb_uri)
        settle = server.wait_idle()
        idle = server.background()
        idle_commands = await idle_operations(client)
        try:
            created, read_back = await bench_server(server.base, count, concurrency,
                                                    server.processes, client)
            database = {k: v for k, v in server.processes.items() if k == "db"}
            plain, raw_create, raw_read = await bench_raw(client, count, concurrency, database)
            await client.drop_database(SERVER_DATABASE)
        finally:
            await client.close()
            server.stop()
    where = "MONGODB_URI" if mongodb_uri else "embedded SecantusDB (--sync-on-commit)"
    size = len(orjson.dumps(patient(0)))
    print(f"{count} operations per row, concurrency {concurrency}, Patient of {size} bytes, "
          f"database: {where}; server idle after {settle:.0f} s")
    print("idle server and database, per second: " + ", ".join(
        f"{name} CPU {rate * 1000:.0f} ms" for name, rate in idle.items()) + "; db ops " +
        " ".join(f"{k} {v:.1f}" for k, v in idle_commands.items() if v > 0))
    for result in (created, raw_create, plain, read_back, raw_read):
        print(result.line())
    print("ratios server/raw (throughput; p50 latency):")
    for server_result, raw in ((created, raw_create), (read_back, raw_read)):
        print(f"  {server_result.name} / {raw.name}: "
              f"{server_result.throughput / raw.throughput:.2f}; "
              f"{server_result.percentile(50) / raw.percentile(50):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(run(args.count, args.concurrency, os.environ.get("MONGODB_URI")))


if __name__ == "__main__":
    main()
