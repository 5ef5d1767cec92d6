"""Loading throughput: the transaction endpoint and ``fhir-server load`` vs raw ``insert_many``.

Run: ``.venv/bin/python -m bench.load [--rounds N]``. Loads the 1,896 resources of the 13
Synthea transaction Bundles in ``tests/data/synthea/bundles`` three ways, each round into a
fresh database on the same MongoDB (an embedded SecantusDB started for the run, or
``MONGODB_URI``):

* ``POST /fhir``: each Bundle as one transaction to a real ``fhir-server serve`` process
  over HTTP (validation, reference resolution, history, search index, one MongoDB
  transaction per Bundle); the server's background terminology seeding is switched off
  (``FHIR_TERMINOLOGY_SEED=off``) so it does not compete;
* ``fhir-server load``: the CLI over the folder (the same transaction code; deterministic
  ids, progress records), wall clock of the whole command including its start-up;
* raw: the same resources as ``{_id, resource}`` documents, one ``insert_many`` per type and
  Bundle, no transaction, no validation, no history: the floor.

Prints resources/s for each and the ratios to raw (medians over the rounds), and the CPU
time per resource of the server (or of the CLI, start-up included) and of the embedded
database process, read from ``/proc``: steadier than rates on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from fhir_server.database import connect
from fhir_server.json_io import parse_json, to_bson

ROOT = Path(__file__).parents[1]
BUNDLES = ROOT / "tests" / "data" / "synthea" / "bundles"
FILES = sorted(BUNDLES.glob("*/*.json"))


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``); 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _raw(uri: str, database: str) -> float:
    bundles = [parse_json(path.read_bytes()) for path in FILES]
    client = connect(uri)
    try:
        db = client[database]
        started = time.perf_counter()
        for bundle in bundles:
            by_type: dict[str, list[dict]] = {}
            for entry in bundle["entry"]:
                resource = entry["resource"]
                by_type.setdefault(resource["resourceType"], []).append(
                    {"_id": str(uuid.uuid4()), "resource": to_bson(resource)})
            for resource_type, docs in by_type.items():
                await db[resource_type].insert_many(docs)
        return time.perf_counter() - started
    finally:
        await client.drop_database(database)
        await client.close()


def _serve(uri: str, database: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "MONGODB_URI": uri, "FHIR_DATABASE": database,
           "FHIR_PORT": str(port), "FHIR_TERMINOLOGY_SEED": "off"}
    process = subprocess.Popen([sys.executable, "-m", "fhir_server.cli", "serve"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/fhir"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/metadata", timeout=30).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the server did not start")


async def _drop(uri: str, database: str) -> None:
    client = connect(uri)
    await client.drop_database(database)
    await client.close()


def _endpoint(uri: str, database: str, db_pid: int | None) -> tuple[float, float, float]:
    """(seconds, server CPU seconds, database CPU seconds) for the 13 transactions."""
    process, base = _serve(uri, database)
    try:
        bodies = [path.read_bytes() for path in FILES]
        with httpx.Client(timeout=600) as http:
            http.post(base, content=b'{"resourceType":"Bundle","type":"transaction"}',
                      headers={"Content-Type": "application/fhir+json"})  # warm up
            cpu = cpu_seconds(process.pid), cpu_seconds(db_pid)
            started = time.perf_counter()
            for body in bodies:
                response = http.post(base, content=body,
                                     headers={"Content-Type": "application/fhir+json"})
                response.raise_for_status()
            return (time.perf_counter() - started, cpu_seconds(process.pid) - cpu[0],
                    cpu_seconds(db_pid) - cpu[1])
    finally:
        process.terminate()
        process.wait()
        asyncio.run(_drop(uri, database))


def _loader(uri: str, database: str, db_pid: int | None) -> tuple[float, float, float]:
    """(seconds, loader CPU seconds, database CPU seconds), start-up included."""
    env = {**os.environ, "MONGODB_URI": uri, "FHIR_DATABASE": database}
    cpu = _children_cpu(), cpu_seconds(db_pid)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fhir_server.cli", "load", "--quiet", str(BUNDLES)],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    used = _children_cpu() - cpu[0], cpu_seconds(db_pid) - cpu[1]
    asyncio.run(_drop(uri, database))
    return elapsed, *used


def _database_uri() -> tuple[str, object | None]:
    uri = os.environ.get("MONGODB_URI")
    if uri:
        return uri, None
    from fhir_server.embedded_db import EmbeddedDatabase, try_lock

    data_dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    lock = try_lock(data_dir / "embedded-db.lock")
    database = EmbeddedDatabase.start(data_dir, lock)  # type: ignore[arg-type]
    return database.uri, database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    resources = sum(len(parse_json(p.read_bytes())["entry"]) for p in FILES)
    uri, embedded = _database_uri()
    try:
        timings: dict[str, list[float]] = {"raw": [], "endpoint": [], "loader": []}
        cpu: dict[str, list[tuple[float, float]]] = {"endpoint": [], "loader": []}
        db_pid = embedded.process.pid if embedded is not None else None  # type: ignore[attr-defined]
        for _ in range(rounds):
            name = f"bench_{uuid.uuid4().hex[:8]}"
            timings["raw"].append(asyncio.run(_raw(uri, name + "_raw")))
            for path, run in (("endpoint", _endpoint), ("loader", _loader)):
                elapsed, app, database = run(uri, f"{name}_{path}", db_pid)
                timings[path].append(elapsed)
                cpu[path].append((app, database))
    finally:
        if embedded is not None:
            embedded.stop()  # type: ignore[attr-defined]
            shutil.rmtree(embedded.data_dir, ignore_errors=True)  # type: ignore[attr-defined]
    rate = {k: resources / statistics.median(v) for k, v in timings.items()}
    print(f"{resources} resources in {len(FILES)} Synthea Bundles, {rounds} rounds (medians)")
    print(f"raw insert_many:             {rate['raw']:8.0f} resources/s")
    print(f"POST /fhir transactions:     {rate['endpoint']:8.0f} resources/s  "
          f"({rate['endpoint'] / rate['raw']:.3f} of raw, raw is "
          f"{rate['raw'] / rate['endpoint']:.1f}x faster)")
    print(f"fhir-server load (whole CLI): {rate['loader']:7.0f} resources/s  "
          f"({rate['loader'] / rate['raw']:.3f} of raw, raw is "
          f"{rate['raw'] / rate['loader']:.1f}x faster)")
    for path, label in (("endpoint", "POST /fhir: server"), ("loader", "load: CLI")):
        app = statistics.median(c[0] for c in cpu[path]) / resources * 1000
        database = statistics.median(c[1] for c in cpu[path]) / resources * 1000
        print(f"  CPU per resource, {label} {app:.2f} ms, database "
              + (f"{database:.2f} ms" if embedded is not None else "not measured"))


if __name__ == "__main__":
    main()
