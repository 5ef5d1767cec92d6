"""Run an external FHIR load generator against a real ``fhir-server serve``.

    .venv/bin/python -m bench.serve_load --tool ../shared/tools/fhir_load.py \\
        [--workers 1 2] [--source DIR] [--label NAME] -- [load generator options]

For each ``--workers`` value: a fresh data dir (embedded database, shipped terminology
stored before ready as always), ``fhir-server serve --workers N`` on a free loopback port,
then the load generator (``fhir_load.py``, not part of this repository: see
``bench/README.md``) with ``--server-pid`` of the server (its workers included) and of the
embedded database, so that its JSON lines split the CPU per process. ``--source`` runs the
server from another checkout of this project (an older commit unpacked with ``git
archive``), with this venv, for before/after figures in one sitting. Prints, per scenario,
requests/s, p50/p99 and the CPU per request of the application and of the database.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(base: str, process: subprocess.Popen, timeout: float = 600) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError("the server exited during startup")
        try:
            with urllib.request.urlopen(f"{base}/metadata", timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


def _database_pid(data_dir: Path) -> int:
    return int(json.loads((data_dir / "embedded-db.json").read_text())["pid"])


def summary(line: dict, app_pid: int, database_pid: int) -> str:
    requests = line.get("requests_ok") or 1
    seconds = line["duration_s"]
    by_pid = line.get("server_cpu_pct_of_core_by_pid") or {}
    app, database = (by_pid.get(str(pid), 0.0) / 100 * seconds / requests * 1000
                     for pid in (app_pid, database_pid))
    latency = line["latency_ms"]
    return (f"{line['label']:>14} {line['scenario']:22} {line['rps']:8.1f}/s "
            f"p50 {latency['p50']:8.1f} ms p99 {latency['p99']:8.1f} ms "
            f"app {app:7.2f} ms/req db {database:7.2f} ms/req errors {line['errors']} "
            f"busy {line.get('system_cpu_busy_pct', 0):.0f}%")


def run(tool: Path, workers: int, source: Path, label: str, extra: list[str],
        out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-serve-load-") as directory:
        data_dir = Path(directory)
        port = _free_port()
        base = f"http://127.0.0.1:{port}/fhir"
        env = {**os.environ, "PYTHONPATH": str(source)}
        env.pop("MONGODB_URI", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "fhir_server.cli", "serve", "--port", str(port),
             "--data-dir", str(data_dir),
             *(["--workers", str(workers)] if workers > 1 else [])],
            cwd=source, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ready = _wait_ready(base, server)
            print(f"{label}: ready after {ready:.1f} s", flush=True)
            database = _database_pid(data_dir)
            command = [sys.executable, str(tool), base, "--label", label,
                       "--server-pid", str(server.pid), "--server-pid", str(database),
                       "--out", str(out), *extra]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            for text in result.stdout.splitlines():
                line = json.loads(text)
                print(summary(line, server.pid, database) if "rps" in line
                      else f"{label}: {line}", flush=True)
            if result.returncode:
                print(result.stderr[-2000:], file=sys.stderr)
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", type=Path, required=True)
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--label", default="server")
    parser.add_argument("--out", type=Path, default=Path("serve-load.jsonl"))
    parser.add_argument("extra", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    for workers in args.workers:
        run(args.tool.resolve(), workers, args.source.resolve(),
            f"{args.label}-w{workers}", extra, args.out.resolve())


if __name__ == "__main__":
    main()
