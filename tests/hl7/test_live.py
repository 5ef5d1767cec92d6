"""Black-box: the real ``fhir-server serve --mllp-port`` and ``fhir-server hl7 listen``
processes, talked to over MLLP sockets; a hypothesis fuzz test mutating real messages checks
the listener never dies and always answers with an ACK or NAK."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import LiveServer, database_of, free_port
from tests.hl7.conftest import END, START, ack_fields, exchange, message

pytestmark = pytest.mark.slow

SEEDS = [message(name) for name in (
    "ms-fhir-converter/ADT-A01-02.hl7", "ms-fhir-converter/ADT-A40-01.hl7",
    "ms-fhir-converter/LAB-ORU-1.hl7", "ms-fhir-converter/VXU.hl7",
    "ms-fhir-converter/RDE-O11-01.hl7",
    "cdc-trusted-intermediary/negative-and-edge/"
    "003_AL_ORM_O01_NBS_Fully_Populated_0_initial_message.hl7")]
DELIMITERS = [b"|", b"^", b"~", b"\\", b"&", b"\r", b"\n", b"\x00", b"\xff", b'""']


def _exchange(port: int, payload: bytes, timeout: float = 60) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(START + payload + END)
        data = b""
        while END not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed without an ACK after {data[:80]!r}")
            data += chunk
    start = data.index(START)
    return data[start + 1:data.index(END, start)].decode("utf-8")


@pytest.fixture(scope="module")
async def live_mllp(mongodb_uri, mongo_client):
    port = free_port()
    database = f"hl7live_{uuid.uuid4().hex[:8]}"
    server = LiveServer(mongodb_uri, database, args=["--mllp-port", str(port)])
    try:
        yield server, port
    finally:
        server.stop()
        await mongo_client.drop_database(database)


async def test_serve_with_mllp_port_stores_what_http_then_reads(live_mllp):
    server, port = live_mllp
    ack = await exchange(port, message("ms-fhir-converter/IZ_1_1.1_Admin_Child_Max_Message.hl7"))
    assert ack_fields(ack)["MSA"][1:3] == ["AA", "NIST-IZ-001.00"]
    async with httpx.AsyncClient(base_url=server.base + "/") as http:
        found = (await http.get("Immunization")).json()
        shots = [e["resource"] for e in found.get("entry", [])]
        assert any(s["vaccineCode"]["coding"][0]["code"] == "140" for s in shots)
        provenance = (await http.get("Provenance")).json()
        assert provenance.get("entry"), provenance


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "repeat"]))
        piece = draw(st.sampled_from(DELIMITERS) | st.binary(min_size=1, max_size=8))
        if action == "insert":
            data[position:position] = piece
        elif action == "delete":
            del data[position:position + draw(st.integers(1, 40))]
        elif action == "replace":
            data[position:position + len(piece)] = piece
        elif action == "truncate":
            del data[position:]
        else:
            line_end = data.find(b"\n", position)
            data[position:position] = data[position:line_end + 1 if line_end >= 0 else None]
    return bytes(data).replace(START, b"").replace(END[:1], b"")


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(payload=mutated())
def test_fuzzed_messages_always_get_an_ack_or_nak(live_mllp, payload: bytes):
    server, port = live_mllp
    fields = ack_fields(_exchange(port, payload))
    assert fields["MSH"][0] == "MSH" and fields["MSH"][8].startswith("ACK")
    assert fields["MSA"][1] in ("AA", "AE", "AR")
    if fields["MSA"][1] != "AA":
        assert "ERR" in fields
    assert server.process.poll() is None


def test_listener_alive_after_fuzzing(live_mllp):
    server, port = live_mllp
    assert server.process.poll() is None
    ack = _exchange(port, SEEDS[0].replace(b"|MSG00001|", b"|AFTER-FUZZ|"))
    assert ack_fields(ack)["MSA"][1:3] == ["AA", "AFTER-FUZZ"]


async def test_hl7_listen_runs_the_listener_alone(mongodb_uri, settings, services):
    port = free_port()
    env = {**os.environ, "MONGODB_URI": mongodb_uri, "FHIR_DATABASE": settings.database}
    process = subprocess.Popen(
        [sys.executable, "-m", "fhir_server.cli", "hl7", "listen", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ack = await exchange(port, message("ms-fhir-converter/ADT-A04-02.hl7"))
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                await asyncio.sleep(0.3)
        assert ack_fields(ack)["MSA"][1] == "AA"
        assert await database_of(services)["Patient"].count_documents({}) == 1
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
        process.stdout.close()
