"""Black-box: real ``fhir-server serve`` processes on a new database answer at once and
store the shipped content in the background. A request on a shipped type waits for it
(the shipped-content gate): a ValueSet read right after the first ``/metadata`` finds it,
and a client's write under a shipped id lands after the shipped version and is never
replaced; a Patient is written and read while the content is not stored; past
``FHIR_SEED_WAIT_SECONDS`` a gated request is answered 503. Of two servers started at
once exactly one stores the content; it is no subscription event and has no words
indexed; a server stopped while seeding waits exits promptly."""

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

from fhir_server.storage.conformance_seed import MARKER, SHIPPED_TAG, STATE
from fhir_server.storage.subscription_outbox import version_key
from fhir_server.validation import shipped_content

from ..conftest import free_port

CONFORMANCE = ["CodeSystem", "ValueSet", "ConceptMap", "StructureDefinition"]

SHIPPED = SHIPPED_TAG
MCH_PROFILE = "https://mch-fhir.org/fhir/StructureDefinition/mch-pregnancy-status"
STARTUP_TIMEOUT = 300  # seconds; storing takes far less, but the machine may be busy


FHIR = {"content-type": "application/fhir+json"}
CLIENTS_CODE_SYSTEM = {"resourceType": "CodeSystem", "id": "abstract-types",
                       "url": "https://example.org/a-client/CodeSystem/abstract-types",
                       "status": "draft", "content": "not-present"}


def serve(mongodb_uri: str, database: str, log: Path, **environment: str
          ) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "MONGODB_URI": mongodb_uri, "FHIR_DATABASE": database,
           "FHIR_PORT": str(port), "FHIR_TERMINOLOGY_SEED": "on", "FHIR_AUTH": "off",
           **environment}
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "fhir_server.cli", "serve"], env=env,
                                   stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}/fhir"


def wait_until_ready(process: subprocess.Popen, base: str) -> None:
    """Poll ``/metadata`` until its first 200."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(timeout=5) as http:
        while time.monotonic() < deadline:
            assert process.poll() is None, "the server exited"
            try:
                if http.get(f"{base}/metadata").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise AssertionError(f"not ready within {STARTUP_TIMEOUT} s")


def at_first_metadata(process: subprocess.Popen, base: str, write: bool
                      ) -> tuple[int, int, int | None]:
    """At the first 200 of ``/metadata``: read a shipped ValueSet, search the MCH profile,
    and (``write``) PUT a client's CodeSystem under a shipped id: the read's status, the
    search's total and the PUT's status."""
    wait_until_ready(process, base)
    with httpx.Client(timeout=STARTUP_TIMEOUT) as http:
        put = http.put(f"{base}/CodeSystem/abstract-types", json=CLIENTS_CODE_SYSTEM,
                       headers=FHIR).status_code if write else None
        value_set = http.get(f"{base}/ValueSet/administrative-gender")
        profiles = http.get(f"{base}/StructureDefinition", params={"url": MCH_PROFILE})
    return value_set.status_code, profiles.json()["total"], put


def test_two_servers_started_at_once_store_the_shipped_content_once_before_any_read(
        mongodb_uri: str, tmp_path: Path):
    database = f"startup_{uuid.uuid4().hex[:8]}"
    servers = [serve(mongodb_uri, database, tmp_path / f"server{n}.log") for n in (1, 2)]
    try:
        with ThreadPoolExecutor(2) as pool:
            seen = list(pool.map(lambda server, write: at_first_metadata(*server, write),
                                 servers, (True, False)))
        # the PUT waited for the shipped version: it updates it (200), it is not created
        assert seen == [(200, 1, 200), (200, 1, None)]
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
        # no subscription event for the shipped content (a backlog the dispatcher would
        # read at every first start; the client's PUT may still wait for the dispatcher
        # when the servers stop), and no words: _text/_content of thousands of code lists
        pending = client[database]["subscription_outbox"].count_documents(
            {"_id": {"$ne": version_key("CodeSystem", "abstract-types", 2)}})
        worded = client[database]["CodeSystem"].count_documents(
            {"$or": [{"search._text": {"$exists": True}},
                     {"search._content": {"$exists": True}}]})
        indexed = client[database]["CodeSystem"].count_documents(
            {"search.url": {"$exists": True}})
        clients = client[database]["CodeSystem"].find_one({"_id": "abstract-types"})
        versions = [(d["vid"], SHIPPED in d["resource"]["meta"].get("tag", []))
                    for d in history.find({"type": "CodeSystem", "id": "abstract-types"})]
        client.drop_database(database)
    shipped = Counter((r["resourceType"], r["id"]) for r in shipped_content())
    # every shipped resource exactly once, and the client's version after it
    assert stored == shipped + Counter({("CodeSystem", "abstract-types"): 1})
    assert sorted(versions) == [(1, True), (2, False)]
    assert clients["resource"]["url"] == CLIENTS_CODE_SYSTEM["url"]
    assert (pending, worded) == (0, 0)
    assert indexed > 1000  # the other parameters are indexed


def test_other_types_do_not_wait_for_the_shipped_content_and_shipped_ones_wait_bounded(
        mongodb_uri: str, tmp_path: Path):
    """A live process holds the seeding lease (this test's): the server is ready, writes
    and reads a Patient while the database says the content is not stored, answers 503
    with Retry-After for a ValueSet read and a CodeSystem write after
    ``FHIR_SEED_WAIT_SECONDS``, and stops promptly on SIGTERM (uvicorn looks at a signal
    only after the application's startup, which therefore must not wait for seeding)."""
    database = f"startup_{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    held = {"_id": MARKER, "version": "another", "state": "loading", "heartbeat": now,
            "started": now, "owner": {"host": socket.gethostname(), "pid": os.getpid(),
                                      "token": "a live seeder"}}
    with MongoClient(mongodb_uri) as client:
        client[database][STATE].insert_one(held)
    log = tmp_path / "server.log"
    process, base = serve(mongodb_uri, database, log, FHIR_SEED_WAIT_SECONDS="1")
    try:
        wait_until_ready(process, base)
        with httpx.Client(timeout=60) as http:
            created = http.post(f"{base}/Patient", json={"resourceType": "Patient"},
                                headers=FHIR)
            read = http.get(f"{base}/Patient/{created.json()['id']}")
            with MongoClient(mongodb_uri) as client:
                marker = client[database][STATE].find_one({"_id": MARKER})
            value_set = http.get(f"{base}/ValueSet/administrative-gender")
            written = http.put(f"{base}/CodeSystem/abstract-types", json=CLIENTS_CODE_SYSTEM,
                               headers=FHIR)
            listed = http.get(base, params={"_type": "Patient"})
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        process.wait()
    with MongoClient(mongodb_uri) as client:
        after = client[database][STATE].find_one({"_id": MARKER})
        stored = client[database]["CodeSystem"].count_documents({})
        client.drop_database(database)
    assert (created.status_code, read.status_code, listed.status_code) == (201, 200, 200)
    assert marker["state"] == "loading"  # the Patient did not wait for the content
    for refused in (value_set, written):
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"].isdigit()
        assert refused.json()["issue"][0]["code"] == "transient"
    assert stored == 0  # the client's write was not taken while the content is missing
    assert (after["state"], after["owner"]) == ("loading", held["owner"])  # left alone
