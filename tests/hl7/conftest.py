"""HL7 v2 test fixtures: an MLLP listener in this process on a fresh test database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fhir_server.access import SYSTEM
from importers.hl7v2 import Ingestor, MllpServer
from tests.conftest import database_of

DATA = Path(__file__).parent.parent / "data" / "hl7v2"
START, END = b"\x0b", b"\x1c\x0d"


def message(relative: str) -> bytes:
    return (DATA / relative).read_bytes()


async def exchange(port: int, payload: bytes, *, raw: bool = False,
                   timeout: float = 60) -> str:
    """Send one framed message (or ``raw`` bytes) over a new connection; the ACK text."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload if raw else START + payload + END)
        await writer.drain()
        return await read_ack(reader, timeout)
    finally:
        writer.close()
        await writer.wait_closed()


async def read_ack(reader: asyncio.StreamReader, timeout: float = 60) -> str:
    data = await asyncio.wait_for(reader.readuntil(END), timeout)
    assert data.startswith(START), data[:20]
    return data[1:-2].decode("utf-8")


def ack_fields(ack: str) -> dict[str, list[str]]:
    """Segment name -> fields (MSA -> ['MSA', code, control id, ...]) of an ACK."""
    segments = [s for s in ack.split("\r") if s]
    found: dict[str, list[str]] = {}
    for segment in segments:
        found.setdefault(segment[:3], segment.split("|"))
    return found


@pytest.fixture(autouse=True)
def _no_terminology_seeding(monkeypatch):
    """Each test's fresh database would otherwise get the shipped terminology stored in the
    background (the validator reads it from memory either way)."""
    monkeypatch.setenv("FHIR_TERMINOLOGY_SEED", "off")


@pytest.fixture
def services(app):
    return app.state.services


@pytest.fixture
def ingestor(services) -> Ingestor:
    return Ingestor(services.storage.hl7_feed, services.validator)


@pytest.fixture
async def listener(ingestor: Ingestor) -> AsyncIterator[MllpServer]:
    server = await MllpServer(ingestor, "127.0.0.1", 0).start()
    try:
        yield server
    finally:
        await server.close()


async def stored(services, control_id: str | None = None) -> dict[str, list[dict]]:
    """The resources one stored message wrote (its hl7_messages record), by type, at the
    versions that message wrote."""
    query = {} if control_id is None else {"controlId": control_id}
    record = await database_of(services)["hl7_messages"].find_one(query, sort=[("receivedAt", -1)])
    assert record is not None, f"no stored message {control_id}"
    found: dict[str, list[dict]] = {}
    for ref in record["resources"]:
        resource_type, rid, _, vid = ref.split("/")
        entry = await services.storage.resources.vread(SYSTEM, resource_type, rid, int(vid))
        found.setdefault(resource_type, []).append(entry.resource)
    return found


async def send_ok(port: int, relative: str) -> str:
    ack = await exchange(port, message(relative))
    assert ack_fields(ack)["MSA"][1] == "AA", ack
    return ack
