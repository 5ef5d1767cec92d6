"""Reading v2 text liberally (HL7 v2.5.1 ch. 2.5-2.7) and the datatype maps: pure, no I/O."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from importers.hl7v2 import datatypes
from importers.hl7v2.batch import split_batch
from importers.hl7v2.composites import address, codeable_concept, contact_point, identifier
from importers.hl7v2.message import V2ParseError, parse
from importers.hl7v2.tables import load_tables
from tests.hl7.conftest import message

ADT = message("ms-fhir-converter/ADT-A01-02.hl7")


@pytest.mark.parametrize("ending", [b"\r", b"\n", b"\r\n"])
def test_segment_ends_lf_crlf_cr_read_the_same(ending: bytes):
    text = b"\xef\xbb\xbf" + ending.join(ADT.replace(b"\r\n", b"\n").split(b"\n"))
    parsed = parse(text)
    assert [s.name for s in parsed.segments] == ["MSH", "EVN", "PID", "PV1"]
    assert parsed.control_id == "MSG00001"
    assert parsed.event_type == "ADT^A01"
    assert parsed.version == "2.8"


def test_missing_trailing_separators_and_z_segments_are_kept():
    parsed = parse("MSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.5.1\rPID|1||42^^^H^MR\r"
                   "ZPI|custom^value|x\r")
    assert parsed.first("PID").field(3)[1] == "42"
    assert parsed.first("PID")[30] == ""
    assert parsed.first("ZPI").field(1)[2] == "value"


def test_escape_sequences_are_resolved():
    parsed = parse("MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5.1\r"
                   "NTE|1||a \\F\\ b \\S\\ c \\T\\ d \\R\\ e \\E\\ f\\.br\\g \\X41\\\r")
    assert parsed.first("NTE").field(3).text == "a | b ^ c & d ~ e \\ f\ng A"


def test_doubled_escape_character_in_msh2_is_repaired():
    parsed = parse(message("linuxforhealth/sample_unix.hl7"))
    assert parsed.encoding.escape == "\\" and parsed.encoding.subcomponent == "&"
    assert parsed.event_type == "ADT^A01"


@pytest.mark.parametrize("text, location", [
    (b"", ""),
    (b"PID|1||42\r", "MSH^1"),
    (b"MSH|\r", "MSH^1^2"),
    (b"MSH||A|B|C|D|2023||ORM^O01|111111|D|2.5.1\r", "MSH^1^2"),
    (b"MSH|^^^^|A\r", "MSH^1^2"),
    (b"MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\r!!!|bad\r", "!!!^2"),
])
def test_unreadable_messages_raise_with_location(text: bytes, location: str):
    with pytest.raises(V2ParseError) as raised:
        parse(text)
    assert raised.value.location == location


def test_latin1_declared_in_msh18_is_decoded():
    text = "MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5|||||||8859/1\rPID|1||7^^^H^MR||Müller^Zoë\r"
    parsed = parse(text.encode("latin-1"))
    assert parsed.first("PID").field(5)[1] == "Müller"


def test_date_times_follow_the_dtm_format():
    berlin = ZoneInfo("Europe/Berlin")
    assert datatypes.date_time("198808181126+0215", berlin) == "1988-08-18T11:26:00+02:15"
    assert datatypes.date_time("20240224134009", berlin) == "2024-02-24T13:40:09+01:00"
    assert datatypes.date_time("20240724134009", berlin) == "2024-07-24T13:40:09+02:00"
    assert datatypes.date_time("202401", berlin) == "2024-01"
    assert datatypes.instant("20240224", berlin) is None
    assert datatypes.date("202402210152-0500") == "2024-02-21"
    for bad in ("February 2 2024", "20241345", "20170229", "2024022412-2500"):
        with pytest.raises(datatypes.DataTypeError):
            datatypes.date_time(bad, berlin)


def test_numbers_and_structured_numerics():
    assert datatypes.decimal("3122") == Decimal("3122")
    assert str(datatypes.decimal("1.50")) == "1.50"
    assert datatypes.decimal(".5") == Decimal("0.5")
    with pytest.raises(datatypes.DataTypeError):
        datatypes.decimal("NOVALUE")
    assert datatypes.structured_numeric([">", "10"]) == (
        "Quantity", {"value": Decimal("10"), "comparator": ">"})
    assert datatypes.structured_numeric(["", "1", ":", "128"])[0] == "Ratio"
    assert datatypes.structured_numeric(["", "2", "-", "5"])[0] == "Range"


def test_composite_datatypes_map_to_fhir():
    tables = load_tables()
    pid = parse(ADT).first("PID")
    mrn = identifier(pid.field(3), tables)
    assert mrn["value"] == "PATID1234" and mrn["system"] == "urn:oid:2.16.1"
    assert mrn["type"]["coding"][0]["code"] == "MR"
    ssn = identifier(pid.field(3, 1), tables)
    assert ssn["system"] == "http://hl7.org/fhir/sid/us-ssn"
    home = address(pid.field(11), tables)
    assert home["line"] == ["1000 Hospital Lane", "Ste. 123"] and home["city"] == "Ann Arbor"
    assert home["type"] == "postal" and home["period"] == {"start": "2000-01-10",
                                                             "end": "2000-01-20"}
    phone = contact_point(pid.field(13), tables, "home")
    assert phone["value"] == "2222" and phone["use"] == "mobile" and phone["rank"] == 18
    language = codeable_concept(pid.field(15), tables)
    assert language["text"] == "TextInEnglish"
    assert [c["code"] for c in language["coding"]] == ["ara", "eng"]


def test_unknown_coding_system_keeps_code_and_text():
    tables = load_tables()
    value = parse("MSH|^~\\&|A|B|C|D|2024||ORM^O01|1|P|2.5.1\rOBR|1|||NO^Not Real^FAKE\r"
                  ).first("OBR").field(4)
    concept = codeable_concept(value, tables)
    assert concept == {"coding": [{"code": "NO", "display": "Not Real"}], "text": "Not Real"}


def test_batch_files_split_into_messages():
    batch = message("cdc-trusted-intermediary/messages/"
                    "005_AL_ORU_R01_NBS_Simplified_0_initial_message.hl7")
    messages = split_batch(batch)
    assert len(messages) == 1 and messages[0].startswith("MSH|")
    assert all(not m.startswith(("FHS", "BHS")) for m in messages)
    framed = b"\x0bMSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\rPID|1\x1c\r" \
             b"\x0bMSH|^~\\&|A|B|C|D|1||ADT^A01|2|P|2.5\nPID|2\x1c\r"
    assert [parse(m).control_id for m in split_batch(framed)] == ["1", "2"]
    assert split_batch(b"junk line\nMSH|^~\\&|A|B|C|D|1||ADT^A01|3|P|2.5\n")[0] == "junk line\r"
