"""Bounded work per HL7 v2 message: reading and mapping grow linearly with the message, a
field repeated beyond ``FHIR_HL7_MAX_REPETITIONS`` or a message beyond
``FHIR_HL7_MAX_SEGMENTS`` is refused with AR and an ERR naming the place, and control
characters are refused and never echoed into an ACK (issue 13, "Server errors found by
fuzzing")."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from importers.hl7v2 import composites
from importers.hl7v2.ack import AckError, Header, build_ack
from importers.hl7v2.mapping import map_message
from importers.hl7v2.message import Encoding, Limits, V2ParseError, parse
from importers.hl7v2.tables import load_tables
from profiles.validator import Validator
from tests.conftest import database_of
from tests.hl7.conftest import ack_fields, exchange

from .test_robustness import listener_still_serves

MSH = "MSH|^~\\&|LAB|FAC|REC|RFAC|20240101120000||{event}|{control}|P|2.5.1\r"


def adt_with_identifiers(count: int, control: str = "MANY-IDS") -> str:
    """An ADT^A01 whose PID-3 repeats ``count`` times."""
    identifiers = "~".join(f"ID{n:06d}^^^HOSP^MR" for n in range(count))
    return (MSH.format(event="ADT^A01^ADT_A01", control=control)
            + "EVN|A01|20240101120000\r"
            + f"PID|1||{identifiers}||DOE^JANE||19900101|F\rPV1|1|I\r")


def oru_with_results(count: int, control: str = "MANY-OBX") -> str:
    """An ORU^R01 with ``count`` OBX segments under one OBR."""
    results = "".join(f"OBX|{n}|NM|2345-7^Glucose^LN||{n % 300}|mg/dL|70-100|N|||F\r"
                      for n in range(1, count + 1))
    return (MSH.format(event="ORU^R01^ORU_R01", control=control)
            + "PID|1||42^^^HOSP^MR||DOE^JANE||19900101|F\r"
            + "OBR|1|PON1^LAB|FON1^LAB|1487^PANEL^L||20240101120000\r" + results)


class _Identifier(dict):
    """A mapped Identifier whose comparisons are Python calls, so that comparing every
    identifier with every other (a quadratic step hidden in ``in`` on a list) is counted."""

    def __eq__(self, other: object) -> bool:
        return dict.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]


def _calls(work: Callable[[], object]) -> int:
    """Python and builtin function calls made by ``work()``: a measure of work that does not
    depend on the machine's speed or load."""
    count = 0

    def profile(_frame, event, _arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


def _read_map_validate(text: str, validator: Validator) -> Callable[[], object]:
    tables = load_tables(None)

    def work() -> None:
        for write in map_message(parse(text), tables, "key").writes.values():
            validator.validate(write.resource)

    return work


@pytest.mark.parametrize("message", [adt_with_identifiers, oru_with_results],
                         ids=["PID-3 repetitions", "OBX segments"])
def test_reading_mapping_and_validating_grow_linearly(message, validator, monkeypatch):
    original = composites.identifier
    monkeypatch.setattr(composites, "identifier",
                        lambda *args: _Identifier(original(*args) or {}) or None)
    _read_map_validate(message(10), validator)()  # first use loads tables and definitions
    small = _calls(_read_map_validate(message(100), validator))
    large = _calls(_read_map_validate(message(400), validator))
    assert large < 4.4 * small, f"4x the message cost {large / small:.1f}x the calls"


def test_a_field_repeated_beyond_the_limit_is_refused_with_its_location(monkeypatch):
    monkeypatch.setenv("FHIR_HL7_MAX_REPETITIONS", "3")
    assert len(parse(adt_with_identifiers(3)).first("PID").repetitions(3)) == 3
    with pytest.raises(V2ParseError) as raised:
        parse(adt_with_identifiers(4))
    assert (raised.value.location, raised.value.code) == ("PID^1^3", "207")
    assert "PID-3 repeats 4 times" in str(raised.value)
    assert Limits.from_environment() == Limits(repetitions=3)


def test_a_message_beyond_the_segment_limit_is_refused():
    limits = Limits(segments=50)
    assert len(parse(oru_with_results(47), limits).segments) == 50
    with pytest.raises(V2ParseError) as raised:
        parse(oru_with_results(48), limits)
    assert (raised.value.location, raised.value.code) == ("OBX", "207")
    assert "51 segments" in str(raised.value)


async def test_fifty_thousand_identifiers_get_a_nak_and_the_listener_keeps_serving(
        listener, services):
    text = adt_with_identifiers(50_000, "HUGE-PID3").encode()
    assert 600_000 < len(text) < 4 << 20  # under the size limit: only the repetitions count
    fields = ack_fields(await exchange(listener.port, text))
    assert fields["MSA"][1:3] == ["AR", "HUGE-PID3"]
    assert fields["ERR"][2] == "PID^1^3" and fields["ERR"][3].startswith("207^")
    assert "at most 1000 repetitions" in fields["ERR"][8]
    assert await database_of(services)["Patient"].count_documents({}) == 0
    letter = await database_of(services)["hl7_dead_letters"].find_one({"controlId": "HUGE-PID3"})
    assert letter is not None and letter["ackCode"] == "AR"
    assert await listener_still_serves(listener)


async def test_a_message_of_many_segments_gets_a_nak(listener):
    fields = ack_fields(await exchange(listener.port, oru_with_results(6000).encode()))
    assert fields["MSA"][1:3] == ["AR", "MANY-OBX"]
    assert "at most 5000" in fields["ERR"][8]


def _printable_ack(ack: str) -> bool:
    return ack.replace("\r", "").isprintable()


@pytest.mark.parametrize(("text", "location"), [
    (MSH.format(event="ADT^A01", control="NUL-1").replace("|^~", "|\x00~", 1), "MSH^1^2"),
    (MSH.format(event="ADT^A01", control="NUL-2").replace("|^~\\&|", "|^~\\&|\x00", 1),
     "MSH^1^3"),
    (MSH.format(event="ADT^A01", control="NUL-3") + "PID|1||\x0042^^^H^MR\r", "PID^1^3"),
    (MSH.format(event="ADT^A01", control="FF-4") + "PID|1||42^^^H^MR||DOE\x0c^JANE\r",
     "PID^1^5"),
    (MSH.format(event="ADT^A01", control="ESC-5") + "NTE|1||\x1b[2J\r", "NTE^1^3"),
])
def test_control_characters_are_refused_where_they_are(text, location):
    with pytest.raises(V2ParseError) as raised:
        parse(text)
    assert (raised.value.location, raised.value.code) == (location, "102")


async def test_a_nul_after_a_field_separator_is_never_echoed_into_the_ack(listener):
    for text in (b"MSH|\x00~\\&|A|B|C|D|2024||ADT^A01|NUL-1|P|2.5.1\rPID|1||42^^^H^MR\r",
                 b"MSH|^~\\&|\x00A|B\x00|C|D|2024||ADT^A01|NUL-2|P|2.5.1\rPID|1||42^^^H^MR\r",
                 b"MSH|^~\\&|A|B|C|D|2024||ADT^A01|NUL-3|P|2.5.1\rPID|1||\x00^^^H^MR\r"):
        ack = await exchange(listener.port, text)
        fields = ack_fields(ack)
        assert fields["MSA"][1] == "AR" and fields["MSA"][2].startswith("NUL-"), ack
        assert fields["MSH"][1] == "^~\\&" and _printable_ack(ack), repr(ack)
    assert await listener_still_serves(listener)


def test_hex_escapes_cannot_smuggle_control_characters():
    parsed = parse(MSH.format(event="ADT^A01", control="HEX")
                   + "NTE|1||a\\X00\\b\\X1B\\c\\X0D0A\\d\r")
    assert parsed.first("NTE").field(3).text == "abc\r\nd"


def test_the_ack_replaces_what_is_not_printable_in_the_header():
    header = Header(Encoding(), sending_application="APP\x00", sending_facility="FAC\u2028X",
                    trigger="A01\x07", control_id="C\x001", processing_id="P\x1b")
    ack = build_ack(header, "AE", [AckError("102", "bad\x00value", "PID^1^5\x00")])
    assert _printable_ack(ack), repr(ack)
    assert ack_fields(ack)["MSA"][:3] == ["MSA", "AE", "C 1"]
