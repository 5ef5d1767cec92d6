"""Startup to ready and idle memory of ``fhir-server serve`` with its embedded database.

    .venv/bin/python -m bench.startup [--runs 3] [--idle 5] [--seed on|off]

Each run starts a real ``fhir-server serve`` on a new temporary data dir (so the embedded
database starts from nothing and the shipped conformance resources are stored), polls
``GET /metadata`` every 20 ms, and takes the first 200 as *ready*; at that moment it reads a
shipped ValueSet and the MCH pregnancy-status profile (both must already be there). After
``--idle`` seconds it reads the resident memory (``VmRSS`` in ``/proc``) of the server
process and of the database process, and the CPU time each spent since it started. Then it
stops the server (SIGTERM) and starts it again on the same data dir: the *restart* row.

Wall-clock figures depend on what else runs on the machine, so the load average is printed
with them, and so is the CPU time of each process (robust on a busy machine). The server's
log line ``Stored N shipped ... in X s`` gives the seeding's own share.
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

import httpx

SERVE_OPTIONS = {"FHIR_HOST", "FHIR_PORT", "FHIR_DATA_DIR", "FHIR_AUTH", "FHIR_BASE_URL",
                 "FHIR_DATABASE", "FHIR_MLLP_PORT", "MONGODB_URI", "FHIR_TERMINOLOGY_SEED"}
SHIPPED_VALUE_SET = "ValueSet/administrative-gender"
MCH_PROFILE = "https://mch-fhir.org/fhir/StructureDefinition/mch-pregnancy-status"
_TICKS = os.sysconf("SC_CLK_TCK")
_SEEDING = re.compile(rb"Stored (\d+) shipped .* in ([\d.]+) s")


@dataclass
class Sample:
    ready_seconds: float
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


def _shipped_readable(base: str) -> bool:
    value_set = httpx.get(f"{base}/{SHIPPED_VALUE_SET}", timeout=10)
    profile = httpx.get(f"{base}/StructureDefinition", params={"url": MCH_PROFILE},
                        timeout=10)
    return value_set.status_code == 200 and profile.json().get("total") == 1


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
        readable = _shipped_readable(base)
        time.sleep(idle)
        database = int(json.loads((data_dir / "embedded-db.json").read_text())["pid"])
        sample = Sample(ready, readable, _rss_mb(server.pid), _rss_mb(database),
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
    return (f"| {label} | {sample.ready_seconds:.2f} | {sample.server_rss_mb:.0f} | "
            f"{sample.database_rss_mb:.0f} | "
            f"{sample.server_rss_mb + sample.database_rss_mb:.0f} | "
            f"{sample.server_cpu_seconds:.1f} | {sample.database_cpu_seconds:.1f} | "
            f"{sample.seeding} | {'yes' if sample.shipped_readable else 'NO'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=5.0,
                        help="seconds between ready and the memory reading")
    parser.add_argument("--seed", choices=("on", "off"), default="on",
                        help="FHIR_TERMINOLOGY_SEED of the server")
    args = parser.parse_args()
    print(f"load average before: {' '.join(map(str, os.getloadavg()))}")
    print("| start | ready (s) | server RSS (MB) | database RSS (MB) | total RSS (MB) | "
          "server CPU (s) | database CPU (s) | seeding | shipped readable at ready |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        for run in range(args.runs):
            data_dir = Path(scratch) / f"run{run}"
            print(_row("fresh data dir", run_once(data_dir, args.seed, args.idle)), flush=True)
            print(_row("restart", run_once(data_dir, args.seed, args.idle)), flush=True)
    print(f"load average after: {' '.join(map(str, os.getloadavg()))}")


if __name__ == "__main__":
    main()
