"""Black-box: real ``fhir-server serve`` processes on a new database answer ``/metadata``
only once the shipped content is stored, and of two started at once exactly one stores it
while the other waits; the stored content is no subscription event and has no words
indexed; a server stopped while it waits for another's seeding exits at once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pymongo import MongoClient

from fhir_server.storage.conformance_seed import MARKER, STATE
from fhir_server.validation import shipped_content

from ..conftest import free_port

CONFORMANCE = ["CodeSystem", "ValueSet", "ConceptMap", "StructureDefinition"]

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
            {"type": {"$in": CONFORMANCE}}, {"type": 1, "id": 1}))
        # no subscription event (a backlog the dispatcher would read at every first
        # start), and no words: _text/_content of thousands of code lists
        pending = client[database]["subscription_outbox"].count_documents({})
        worded = client[database]["CodeSystem"].count_documents(
            {"$or": [{"search._text": {"$exists": True}},
                     {"search._content": {"$exists": True}}]})
        indexed = client[database]["CodeSystem"].count_documents(
            {"search.url": {"$exists": True}})
        client.drop_database(database)
    shipped = Counter((r["resourceType"], r["id"]) for r in shipped_content())
    assert stored == shipped  # every shipped resource exactly once
    assert (pending, worded) == (0, 0)
    assert indexed > 1000  # the other parameters are indexed


def test_a_server_stopped_while_waiting_for_seeding_exits_at_once(mongodb_uri: str,
                                                                  tmp_path: Path):
    """uvicorn looks at a signal only after the application's startup: a server waiting
    for another process's seeding (or for a database that stopped answering) would not
    stop for minutes."""
    database = f"startup_{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    held = {"_id": MARKER, "version": "another", "state": "loading", "heartbeat": now,
            "started": now, "owner": {"host": socket.gethostname(), "pid": os.getpid(),
                                      "token": "a live seeder"}}
    with MongoClient(mongodb_uri) as client:
        client[database][STATE].insert_one(held)
    log = tmp_path / "server.log"
    process, _ = serve(mongodb_uri, database, log)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while b"Waiting for application startup" not in log.read_bytes():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 1
    finally:
        process.kill()
        process.wait()
    assert "stopped during startup" in log.read_text()
    with MongoClient(mongodb_uri) as client:
        marker = client[database][STATE].find_one({"_id": MARKER})
        client.drop_database(database)
    assert (marker["state"], marker["owner"]) == ("loading", held["owner"])  # left alone
