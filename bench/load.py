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

Prints resources/s for each and the ratios to raw (medians over the rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


def _endpoint(uri: str, database: str) -> float:
    process, base = _serve(uri, database)
    try:
        bodies = [path.read_bytes() for path in FILES]
        with httpx.Client(timeout=600) as http:
            http.post(base, content=b'{"resourceType":"Bundle","type":"transaction"}',
                      headers={"Content-Type": "application/fhir+json"})  # warm up
            started = time.perf_counter()
            for body in bodies:
                response = http.post(base, content=body,
                                     headers={"Content-Type": "application/fhir+json"})
                response.raise_for_status()
            return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait()
        asyncio.run(_drop(uri, database))


def _loader(uri: str, database: str) -> float:
    env = {**os.environ, "MONGODB_URI": uri, "FHIR_DATABASE": database}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fhir_server.cli", "load", "--quiet", str(BUNDLES)],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    asyncio.run(_drop(uri, database))
    return elapsed


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
        for _ in range(rounds):
            name = f"bench_{uuid.uuid4().hex[:8]}"
            timings["raw"].append(asyncio.run(_raw(uri, name + "_raw")))
            timings["endpoint"].append(_endpoint(uri, name + "_tx"))
            timings["loader"].append(_loader(uri, name + "_load"))
    finally:
        if embedded is not None:
            embedded.stop()  # type: ignore[attr-defined]
    rate = {k: resources / statistics.median(v) for k, v in timings.items()}
    print(f"{resources} resources in {len(FILES)} Synthea Bundles, {rounds} rounds (medians)")
    print(f"raw insert_many:             {rate['raw']:8.0f} resources/s")
    print(f"POST /fhir transactions:     {rate['endpoint']:8.0f} resources/s  "
          f"({rate['endpoint'] / rate['raw']:.3f} of raw, raw is "
          f"{rate['raw'] / rate['endpoint']:.1f}x faster)")
    print(f"fhir-server load (whole CLI): {rate['loader']:7.0f} resources/s  "
          f"({rate['loader'] / rate['raw']:.3f} of raw, raw is "
          f"{rate['raw'] / rate['loader']:.1f}x faster)")


if __name__ == "__main__":
    main()
