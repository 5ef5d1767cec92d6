"""HL7 v2 feed throughput: messages/s over MLLP, ACK after commit, vs raw ``insert_many``.

Run: ``.venv/bin/python -m bench.hl7 [--messages N] [--connections C ...] [--rounds R]``.

A real ``fhir-server hl7 listen`` process on a fresh database (an embedded SecantusDB
started for the run, or ``MONGODB_URI``) receives a mix of ADT and ORU messages made from
the test messages (ADT^A01 and ADT^A08 of ``ADT-A01-02``, ORU^R01 of ``LRI_2.0-NG_CBC`` with
28 results and ``LAB-ORU-1`` with 10), each with its own control id and patient, over C
concurrent MLLP connections; every send waits for its ACK, which the listener only sends once
the message's MongoDB transaction (resources, Binary, Provenance, message record) committed.
The listener runs with ``FHIR_TERMINOLOGY_SEED=off`` so that storing the shipped terminology
on a fresh database does not compete with the messages.
The floor: the resources those messages produced, read back and inserted into a fresh
database with one ``insert_many`` per resource type (no transaction, validation, history or
search index). Prints messages/s, resources/s and the ratio (medians over the rounds), and
for the timed messages the CPU time the listener and the embedded database process used
and the database commands counted (``serverStatus`` opcounters) per message: figures that
stay meaningful on a busy machine, where the rates move with the load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from fhir_server.database import connect

ROOT = Path(__file__).parents[1]
DATA = ROOT / "tests" / "data" / "hl7v2" / "ms-fhir-converter"
START, END = b"\x0b", b"\x1c\x0d"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _templates() -> list[bytes]:
    admit = (DATA / "ADT-A01-02.hl7").read_bytes()
    update = admit.replace(b"ADT^A01^ADT_A01", b"ADT^A08^ADT_A08").replace(
        b"|M^Married|", b"|S^Single|")
    return [admit, (DATA / "LRI_2.0-NG_CBC_Typ_Message.hl7").read_bytes(), update,
            (DATA / "LAB-ORU-1.hl7").read_bytes()]


_OWN_IDS = {"PID": (3,), "PV1": (19, 50), "ORC": (2, 3, 4), "OBR": (2, 3)}


def _renumber(line: str, suffix: str) -> str:
    """The segment with its business identifiers (first component) made unique."""
    fields = line.split("|")
    for number in _OWN_IDS.get(fields[0], ()):
        if number < len(fields) and fields[number]:
            first, *rest = fields[number].split("~")[0].split("^")
            fields[number] = "^".join([f"{first}-{suffix}", *rest])
    return "|".join(fields)


def messages(count: int) -> list[bytes]:
    """``count`` messages, ADT and ORU alternating, each with its own MSH-10, patient,
    visit and order numbers (an A01, the ORU after it, its A08 and the next ORU share a
    patient and visit)."""
    found = []
    templates = _templates()
    for n in range(count):
        text = templates[n % len(templates)].decode("utf-8-sig")
        lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
        msh = lines[0].split("|")
        msh[9] = f"BENCH-{n}"
        lines = ["|".join(msh)] + [_renumber(line, f"{n // 4}" if line[:3] in ("PID", "PV1")
                                            else f"{n}") for line in lines[1:]]
        found.append("\r".join(lines).encode())
    return found


async def _send_all(port: int, batch: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for payload in batch:
            writer.write(START + payload + END)
            await writer.drain()
            ack = await reader.readuntil(END)
            if b"MSA|AA|" not in ack:
                raise RuntimeError(f"not stored: {ack[:300]!r}")
    finally:
        writer.close()
        await writer.wait_closed()


def _listen(uri: str, database: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {**os.environ, "MONGODB_URI": uri, "FHIR_DATABASE": database,
           "FHIR_TERMINOLOGY_SEED": "off"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fhir_server.cli", "hl7", "listen", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the listener did not start")


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``); 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _opcounters(uri: str) -> dict[str, int]:
    client = connect(uri)
    try:
        return dict((await client.admin.command("serverStatus"))["opcounters"])
    finally:
        await client.close()


async def _mllp(port: int, payloads: list[bytes], connections: int, uri: str,
                pids: dict[str, int | None]) -> tuple[float, dict[str, float], dict[str, int]]:
    """(seconds, CPU seconds per process, database commands) for the timed messages."""
    await _send_all(port, [payloads[0]])  # warm up (tables, definitions, indexes)
    rest = payloads[1:]
    size = -(-len(rest) // connections)
    commands = await _opcounters(uri)
    cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
    started = time.perf_counter()
    await asyncio.gather(*(_send_all(port, rest[i * size:(i + 1) * size])
                           for i in range(connections)))
    elapsed = time.perf_counter() - started
    cpu = {name: cpu_seconds(pid) - cpu[name] for name, pid in pids.items()}
    after = await _opcounters(uri)
    return elapsed, cpu, {k: after[k] - commands.get(k, 0) for k in after}


async def _raw(uri: str, source: str, target: str) -> tuple[int, int, float]:
    """(resources, versions written, seconds to insert_many the resources elsewhere)."""
    client = connect(uri)
    try:
        db = client[source]
        versions = await db["history"].count_documents({})
        by_type: dict[str, list[dict]] = {}
        for name in await db.list_collection_names():
            if name[:1].isupper():
                by_type[name] = [{"_id": str(uuid.uuid4()), "resource": d["resource"]}
                                 async for d in db[name].find({}, {"resource": 1})]
        started = time.perf_counter()
        for name, docs in by_type.items():
            if docs:
                await client[target][name].insert_many(docs)
        elapsed = time.perf_counter() - started
        return sum(len(d) for d in by_type.values()), versions, elapsed
    finally:
        for name in (source, target):
            await client.drop_database(name)
        await client.close()


def _round(uri: str, payloads: list[bytes], connections: int, database_pid: int | None
           ) -> tuple[float, int, int, float, dict[str, float], dict[str, int]]:
    name = f"bench_hl7_{uuid.uuid4().hex[:8]}"
    process, port = _listen(uri, name)
    try:
        elapsed, cpu, commands = asyncio.run(_mllp(
            port, payloads, connections, uri, {"listener": process.pid, "db": database_pid}))
    finally:
        process.terminate()
        process.wait()
    resources, versions, raw = asyncio.run(_raw(uri, name, name + "_raw"))
    return elapsed, resources, versions, raw, cpu, commands


def _database_uri() -> tuple[str, object | None]:
    uri = os.environ.get("MONGODB_URI")
    if uri:
        return uri, None
    from fhir_server.embedded_db import EmbeddedDatabase, try_lock

    data_dir = Path(tempfile.mkdtemp(prefix="bench-hl7-"))
    lock = try_lock(data_dir / "embedded-db.lock")
    database = EmbeddedDatabase.start(data_dir, lock)  # type: ignore[arg-type]
    return database.uri, database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=201)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    payloads = messages(args.messages)
    timed = args.messages - 1
    uri, embedded = _database_uri()
    try:
        for connections in args.connections:
            pid = embedded.process.pid if embedded is not None else None  # type: ignore[attr-defined]
            runs = [_round(uri, payloads, connections, pid) for _ in range(args.rounds)]
            elapsed = statistics.median(r[0] for r in runs)
            resources = statistics.median(r[1] for r in runs)
            versions = statistics.median(r[2] for r in runs)
            raw = statistics.median(r[3] for r in runs)
            per_message = resources / args.messages
            mllp_rate = timed / elapsed
            raw_rate = resources / raw
            print(f"{connections} connection(s), {timed} timed messages (ADT/ORU mix), "
                  f"{args.rounds} round(s), medians: {resources:.0f} resources "
                  f"({per_message:.1f} per message incl. Binary and Provenance), "
                  f"{versions:.0f} versions written")
            print(f"  MLLP, ACK after commit: {mllp_rate:8.1f} messages/s "
                  f"({mllp_rate * per_message:8.0f} resources/s)")
            print(f"  raw insert_many:        {raw_rate / per_message:8.1f} messages/s "
                  f"({raw_rate:8.0f} resources/s); raw is "
                  f"{raw_rate / (mllp_rate * per_message):.1f}x faster")
            listener = statistics.median(r[4]["listener"] for r in runs) / timed * 1000
            database = statistics.median(r[4]["db"] for r in runs) / timed * 1000
            commands = {k: statistics.median(r[5].get(k, 0) for r in runs) / timed
                        for k in runs[0][5]}
            print(f"  per timed message: listener CPU {listener:.1f} ms, database CPU "
                  f"{database:.1f} ms" + ("" if embedded is not None else " (not measured)")
                  + "; database commands " + ", ".join(
                      f"{k} {v:.1f}" for k, v in commands.items() if v >= 0.05))
    finally:
        if embedded is not None:
            embedded.stop()  # type: ignore[attr-defined]
            shutil.rmtree(embedded.data_dir, ignore_errors=True)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
