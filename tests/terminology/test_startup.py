"""Black-box: real ``fhir-server serve`` processes on a new database answer ``/metadata``
only once the shipped content is stored, and of two started at once exactly one stores it
while the other waits."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from pymongo import MongoClient

from fhir_server.validation import shipped_content

from ..conftest import free_port

MCH_PROFILE = "https://mch-fhir.org/fhir/StructureDefinition/mch-pregnancy-status"
STARTUP_TIMEOUT = 300  # seconds; storing takes far less, but the machine may be busy


def serve(mongodb_uri: str, database: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "MONGODB_URI": mongodb_uri, "FHIR_DATABASE": database,
           "FHIR_PORT": str(port), "FHIR_TERMINOLOGY_SEED": "on", "FHIR_AUTH": "off"}
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "fhir_server.cli", "serve"], env=env,
                                   stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}/fhir"


def at_first_metadata(process: subprocess.Popen, base: str) -> tuple[int, int]:
    """Poll ``/metadata``; at its first 200, read a shipped ValueSet and search the MCH
    profile: their status and the search's total."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(timeout=5) as http:
        while time.monotonic() < deadline:
            assert process.poll() is None, "the server exited"
            try:
                ready = http.get(f"{base}/metadata").status_code == 200
            except httpx.TransportError:
                ready = False
            if ready:
                value_set = http.get(f"{base}/ValueSet/administrative-gender")
                profiles = http.get(f"{base}/StructureDefinition", params={"url": MCH_PROFILE})
                return value_set.status_code, profiles.json()["total"]
            time.sleep(0.05)
    raise AssertionError(f"not ready within {STARTUP_TIMEOUT} s")


def test_two_servers_started_at_once_are_ready_only_with_the_shipped_content(
        mongodb_uri: str, tmp_path: Path):
    database = f"startup_{uuid.uuid4().hex[:8]}"
    servers = [serve(mongodb_uri, database, tmp_path / f"server{n}.log") for n in (1, 2)]
    try:
        with ThreadPoolExecutor(2) as pool:
            seen = list(pool.map(lambda server: at_first_metadata(*server), servers))
        assert seen == [(200, 1), (200, 1)]
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=60)
    logs = [(tmp_path / f"server{n}.log").read_text() for n in (1, 2)]
    assert sum("shipped CodeSystems, ValueSets" in log for log in logs) == 1, logs
    assert sum("Shipped content stored already" in log for log in logs) == 1, logs
    with MongoClient(mongodb_uri) as client:
        history = client[database]["history"]
        stored = Counter((d["type"], d["id"]) for d in history.find(
            {"type": {"$in": ["CodeSystem", "ValueSet", "ConceptMap", "StructureDefinition"]}},
            {"type": 1, "id": 1}))
        client.drop_database(database)
    shipped = Counter((r["resourceType"], r["id"]) for r in shipped_content())
    assert stored == shipped  # every shipped resource exactly once
