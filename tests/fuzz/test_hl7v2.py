"""Fuzzed HL7 v2 frames fed to ``Ingestor.ingest`` (what the MLLP listener calls with each
frame's bytes): real messages mutated at byte and field level (separators, NUL, non-UTF-8
bytes, repeated fields, truncation, changed encoding characters) and arbitrary bytes.
The answer is always an ACK (AA, AE or AR, never an exception), and a message answered
AE or AR stores no resource."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importers.hl7v2 import Ingestor

from .budget import fuzz_settings
from .checks import stored

DATA = Path(__file__).parents[1] / "data" / "hl7v2" / "ms-fhir-converter"
SEEDS = [(DATA / name).read_bytes() for name in
         ("ADT-A01-02.hl7", "ADT-A40-01.hl7", "ORU-R01-01.hl7", "VXU-V04-01.hl7")]
PIECES = [b"|", b"^", b"~", b"\\", b"&", b"\r", b"\n", b"\x00", b"\xff", b'""', b"\x0b",
          b"\x1c", b"MSH|", b"|^~\\&|", b"\xed\xa0\x80", b"\\X00\\", b"\\E\\"]


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))
    message = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(message)))
        mutation = draw(st.sampled_from(["insert", "insert", "delete", "truncate",
                                         "repeat", "encoding"]))
        if mutation == "insert":
            message[at:at] = draw(st.sampled_from(PIECES)) * draw(st.integers(1, 3))
        elif mutation == "delete":
            del message[at:at + draw(st.integers(1, 40))]
        elif mutation == "truncate":
            del message[at:]
        elif mutation == "repeat":
            end = message.find(b"|", at)
            field = message[at:end if end > at else at + 20]
            message[at:at] = (bytes(field) + b"~") * draw(st.integers(2, 200))
        elif len(message) > 8:
            message[3:8] = draw(st.binary(min_size=5, max_size=5))
    return bytes(message)


@pytest.fixture(scope="module")
def ingestor(fuzz_app) -> Ingestor:
    services = fuzz_app.state.services
    return Ingestor(services.storage.hl7_feed, services.validator)


@fuzz_settings(120)
@given(frame=frames())
async def test_hl7v2_frames(ingestor, db, frame):
    before = await stored(db)
    outcome = await ingestor.ingest(frame, source="fuzz")
    assert outcome.code in ("AA", "AE", "AR"), outcome
    assert outcome.ack.startswith("MSH"), outcome.ack[:200]
    assert f"MSA|{outcome.code}" in outcome.ack, outcome.ack[:400]
    if outcome.code != "AA":
        assert await stored(db) == before, outcome.ack[:400]
