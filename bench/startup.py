"""Startup to ready and idle memory of ``fhir-server serve`` with its embedded database.

    .venv/bin/python -m bench.startup [--runs 3] [--idle 5] [--seed on|off]
    .venv/bin/python -m bench.startup --seeding

Each run starts a real ``fhir-server serve`` on a new temporary data dir (so the embedded
database starts from nothing and the shipped conformance resources are stored), polls
``GET /metadata`` every 20 ms, and takes the first 200 as *ready*. The server stores the
shipped content in the background and holds requests on shipped types until it is stored
(``fhir_server/interactions/shipped_gate.py``), so at ready it reads a shipped ValueSet
(``ValueSet/administrative-gender``; repeated after a 503, which comes only past
``FHIR_SEED_WAIT_SECONDS``): the first 200 is *shipped content readable*; then it searches
the MCH pregnancy-status profile (it must be found). ``--idle`` seconds after that it
reads the resident memory (``VmRSS`` in ``/proc``) of the server process and of the
database process, and the CPU time each spent since it started. Then it stops the server
(SIGTERM) and starts it again on the same data dir: the *restart* row.

Wall-clock figures depend on what else runs on the machine, so the load average is printed
with them, and so is the CPU time of each process (robust on a busy machine). The
project's bytecode is compiled first, as an installation has it. The server's
log line ``Stored N shipped ... in X s`` gives the seeding's own share.

``--seeding`` measures where the storing goes instead, in this process against an embedded
database: the server's CPU steps on the shipped content one by one (UCUM registry start,
search index fields, BSON conversion), then
:func:`fhir_server.storage.conformance_seed.seed_shipped` with the server's repository for
three content sets (the shipped terminology; what is shipped; that
plus every other core StructureDefinition), each into a new database, with the CPU time of
this process and of the database.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.embedded import temporary_database

SERVE_OPTIONS = {"FHIR_HOST", "FHIR_PORT", "FHIR_DATA_DIR", "FHIR_AUTH", "FHIR_BASE_URL",
                 "FHIR_DATABASE", "FHIR_MLLP_PORT", "MONGODB_URI", "FHIR_TERMINOLOGY_SEED"}
SHIPPED_VALUE_SET = "ValueSet/administrative-gender"
MCH_PROFILE = "https://mch-fhir.org/fhir/StructureDefinition/mch-pregnancy-status"
_TICKS = os.sysconf("SC_CLK_TCK")
_SEEDING = re.compile(rb"Stored (\d+) shipped .* in ([\d.]+) s")


@dataclass
class Sample:
    ready_seconds: float
    shipped_seconds: float  # to the first 200 of the shipped ValueSet
    shipped_readable: bool
    server_rss_mb: float
    database_rss_mb: float
    server_cpu_seconds: float
    database_cpu_seconds: float
    seeding: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _shipped_readable(base: str, started: float, timeout: float = 600
                      ) -> tuple[float, bool]:
    """Seconds from ``started`` to the first answer to the shipped ValueSet's read other
    than 503 (the request waits for the content; a 503 comes past the server's wait bound
    and is repeated), and whether it was found and the MCH profile too."""
    with httpx.Client(timeout=timeout) as client:
        status = 503
        while status == 503 and time.monotonic() - started < timeout:
            status = client.get(f"{base}/{SHIPPED_VALUE_SET}").status_code
        seconds = time.monotonic() - started
        profile = client.get(f"{base}/StructureDefinition", params={"url": MCH_PROFILE})
    return seconds, status == 200 and profile.json().get("total") == 1


def compile_sources() -> None:
    """Bytecode for the project's modules, as ``pip install`` writes it: with
    ``PYTHONDONTWRITEBYTECODE`` set (as on the shared machine) and an editable install,
    every start would otherwise compile the whole server again (1-2 s of CPU)."""
    import compileall

    root = Path(__file__).resolve().parents[1]
    for package in ("fhir_server", "profiles", "terminology", "consent", "importers"):
        compileall.compile_dir(root / package, quiet=1)


def run_once(data_dir: Path, seed: str, idle: float) -> Sample:
    """Start the server on ``data_dir``, wait for ready, idle, measure, stop."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    env = {k: v for k, v in os.environ.items() if k not in SERVE_OPTIONS}
    env["FHIR_TERMINOLOGY_SEED"] = seed
    log_path = data_dir.with_suffix(".log")
    with open(log_path, "ab") as log:
        started = time.monotonic()
        server = subprocess.Popen(
            [sys.executable, "-m", "fhir_server.cli", "serve", "--auth", "off",
             "--data-dir", str(data_dir), "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        ready = _wait_ready(server, base, started, log_path)
        shipped, readable = _shipped_readable(base, started)
        time.sleep(idle)
        database = int(json.loads((data_dir / "embedded-db.json").read_text())["pid"])
        sample = Sample(ready, shipped, readable, _rss_mb(server.pid), _rss_mb(database),
                        _cpu_seconds(server.pid), _cpu_seconds(database), "")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    found = _SEEDING.findall(log_path.read_bytes())
    sample.seeding = f"{found[-1][0].decode()} in {found[-1][1].decode()} s" if found else "-"
    log_path.write_bytes(b"")
    return sample


def _wait_ready(server: subprocess.Popen, base: str, started: float, log_path: Path,
                timeout: float = 300) -> float:
    with httpx.Client(timeout=2) as client:
        while time.monotonic() - started < timeout:
            if server.poll() is not None:
                raise RuntimeError(f"server exited early:\n{log_path.read_text()}")
            try:
                if client.get(f"{base}/metadata").status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
    raise RuntimeError(f"server not ready within {timeout} s")


def _row(label: str, sample: Sample) -> str:
    return (f"| {label} | {sample.ready_seconds:.2f} | {sample.shipped_seconds:.2f} | "
            f"{sample.server_rss_mb:.0f} | "
            f"{sample.database_rss_mb:.0f} | "
            f"{sample.server_rss_mb + sample.database_rss_mb:.0f} | "
            f"{sample.server_cpu_seconds:.1f} | {sample.database_cpu_seconds:.1f} | "
            f"{sample.seeding} | {'yes' if sample.shipped_readable else 'NO'} |")


def _content_sets() -> list[tuple[str, list[dict]]]:
    from fhir_server.validation import shipped_content
    from profiles.definitions import load_bundle
    from terminology.local import shipped_resources

    shipped = shipped_content()
    have = {r["url"] for r in shipped if r["resourceType"] == "StructureDefinition"}
    core = [e["resource"] for name in ("profiles-types", "profiles-resources",
                                       "profiles-others", "extension-definitions")
            for e in load_bundle(name)["entry"]
            if e["resource"]["resourceType"] == "StructureDefinition"
            and e["resource"]["url"] not in have]
    return [("shipped terminology", list(shipped_resources())),
            ("shipped terminology and profiles (as the server stores)", shipped),
            ("... and every other core StructureDefinition", shipped + core)]


def _indexers() -> tuple[Any, Any]:
    """The server's indexer, and the one it seeds the shipped content with (no words)."""
    from fhir_server.config import Settings
    from fhir_server.search.definitions import Registry
    from fhir_server.search.index import index_resource
    from fhir_server.search.parameters import IndexContext

    registry, context = Registry(), IndexContext(Settings().fhir_base)
    words = frozenset({"_text", "_content"})
    return (lambda r: index_resource(registry, r, context),
            lambda r: index_resource(registry, r, context, words))


def _client_steps(resources: list[dict]) -> None:
    from fhir_server.json_io import to_bson
    from fhir_server.storage.conformance_seed import ShippedContent

    full, shipped = _indexers()
    quantity = {"resourceType": "Observation", "status": "final", "code": {},
                "valueQuantity": {"value": 1, "system": "http://unitsofmeasure.org",
                                  "code": "mg"}}
    steps = [("tag and digest", lambda: ShippedContent(resources)),
             ("UCUM registry start (first quantity indexed)", lambda: full(quantity)),
             ("search index fields, as seeded (no _text/_content words)",
              lambda: [shipped(r) for r in resources]),
             ("search index fields with the words", lambda: [full(r) for r in resources]),
             ("BSON conversion (x2: current + history)",
              lambda: [to_bson(r) for r in resources for _ in range(2)])]
    for label, step in steps:
        started = time.process_time()
        step()
        print(f"| {label} | {time.process_time() - started:.2f} |")


async def _seed_each(uri: str, database_pid: int) -> None:
    from fhir_server.database import connect
    from fhir_server.storage import Resources, SystemWriter
    from fhir_server.storage.conformance_seed import seed_shipped

    client = connect(uri)
    sets = _content_sets()
    print(f"\n| server CPU step on the {len(sets[1][1]):,} shipped resources | CPU (s) |")
    print("|---|---|")
    _client_steps(sets[1][1])
    print("\n| content stored (UCUM registry started already) | resources | wall (s) | "
          "this process CPU (s) | database CPU (s) |")
    print("|---|---|---|---|---|")
    full, shipped = _indexers()
    for number, (label, resources) in enumerate(sets):
        db = client[f"bench_seed_{number}"]
        wall, cpu, db_cpu = time.monotonic(), time.process_time(), _cpu_seconds(database_pid)
        writer = SystemWriter(Resources(db, full), shipped)
        outcome = await seed_shipped(db, writer, resources)
        print(f"| {label} | {outcome.created:,} | {time.monotonic() - wall:.2f} | "
              f"{time.process_time() - cpu:.2f} | {_cpu_seconds(database_pid) - db_cpu:.2f} |",
              flush=True)
    await client.close()


def seeding_breakdown() -> None:
    import asyncio

    print(f"load average before: {' '.join(map(str, os.getloadavg()))}")
    with temporary_database("bench-seeding-") as database:
        assert database.process is not None
        asyncio.run(_seed_each(database.uri, database.process.pid))
    print(f"load average after: {' '.join(map(str, os.getloadavg()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=5.0,
                        help="seconds between shipped content readable and the memory "
                             "reading")
    parser.add_argument("--seed", choices=("on", "off"), default="on",
                        help="FHIR_TERMINOLOGY_SEED of the server")
    parser.add_argument("--seeding", action="store_true",
                        help="where the storing of the shipped content goes, in-process")
    args = parser.parse_args()
    if args.seeding:
        seeding_breakdown()
        return
    compile_sources()
    print(f"load average before: {' '.join(map(str, os.getloadavg()))}")
    print("| start | ready (s) | shipped content readable (s) | server RSS (MB) | "
          "database RSS (MB) | total RSS (MB) | server CPU (s) | database CPU (s) | "
          "seeding | profile found |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        for run in range(args.runs):
            data_dir = Path(scratch) / f"run{run}"
            print(_row("fresh data dir", run_once(data_dir, args.seed, args.idle)), flush=True)
            print(_row("restart", run_once(data_dir, args.seed, args.idle)), flush=True)
    print(f"load average after: {' '.join(map(str, os.getloadavg()))}")


if __name__ == "__main__":
    main()
