"""OBX value types, units, reference ranges, flags and statuses (V2-to-FHIR IG OBX map):
pure mapping, no I/O."""

from __future__ import annotations

from decimal import Decimal

import pytest

from importers.hl7v2.mapping import MappingError, map_message
from importers.hl7v2.message import parse
from importers.hl7v2.tables import load_tables

HEAD = ("MSH|^~\\&|LAB|HOSP|EHR|HOSP|20240301101500+0100||ORU^R01^ORU_R01|V-1|P|2.5.1\r"
        "PID|1||MRN1^^^HOSP^MR||Mensah^Abena||19900101|F\r"
        "OBR|1|P1^EHR|F1^LAB|24331-1^Lipid panel^LN|||20240301090000+0100||||||||||||||"
        "20240301100000+0100|||F\r")


def _observation(obx: str) -> dict:
    ctx = map_message(parse(HEAD + obx + "\r"), load_tables(), "test")
    return next(w.resource for w in ctx.writes.values()
                if w.resource["resourceType"] == "Observation")


@pytest.mark.parametrize("obx, expected", [
    ("OBX|1|NM|2093-3^Cholesterol^LN||195|mg/dL^mg/dL^UCUM|<200|N|||F",
     {"valueQuantity": {"value": Decimal("195"), "unit": "mg/dL",
                        "system": "http://unitsofmeasure.org", "code": "mg/dL"}}),
    ("OBX|1|NM|8867-4^Heart rate^LN||72|beats/min^^ISO+|||||F",
     {"valueQuantity": {"value": Decimal("72"), "unit": "beats/min",
                        "system": "http://unitsofmeasure.org", "code": "/min"}}),
    ("OBX|1|NM|X1^Local^L||7.5|zorks|||||F",
     {"valueQuantity": {"value": Decimal("7.5"), "unit": "zorks"}}),
    ("OBX|1|SN|5778-6^Color^LN||>^10|mmol/L^^UCUM|||||F",
     {"valueQuantity": {"value": Decimal("10"), "comparator": ">", "unit": "mmol/L",
                        "system": "http://unitsofmeasure.org", "code": "mmol/L"}}),
    ("OBX|1|SN|5778-6^Titer^LN||^1^:^128||||||F",
     {"valueRatio": {"numerator": {"value": Decimal("1")},
                     "denominator": {"value": Decimal("128")}}}),
    ("OBX|1|SN|5778-6^Range^LN||^2^-^5||||||F",
     {"valueRange": {"low": {"value": Decimal("2")}, "high": {"value": Decimal("5")}}}),
    ("OBX|1|ST|8251-1^Note^LN||free \\T\\ text||||||F", {"valueString": "free & text"}),
    ("OBX|1|TX|8251-1^Note^LN||line one~line two||||||F",
     {"valueString": "line one\nline two"}),
    ("OBX|1|CWE|882-1^ABO^LN||LA19710-5^Group A^LN||||||F",
     {"valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "LA19710-5",
                                           "display": "Group A"}], "text": "Group A"}}),
    ("OBX|1|DT|11778-8^EDD^LN||20240915||||||F", {"valueDateTime": "2024-09-15"}),
    ("OBX|1|TS|8665-2^LMP^LN||202312010830+0100||||||F",
     {"valueDateTime": "2023-12-01T08:30:00+01:00"}),
    ("OBX|1|TM|X2^Time^L||1430||||||F", {"valueTime": "14:30:00"}),
    ("OBX|1|CX|X3^Linked record^L||A-77^^^HOSP^MR||||||F", {"valueString": "A-77"}),
])
def test_value_types(obx: str, expected: dict):
    observation = _observation(obx)
    value = {k: v for k, v in observation.items() if k.startswith("value")}
    assert value == expected


def test_range_flags_status_and_context():
    observation = _observation(
        "OBX|1|NM|2093-3^Cholesterol^LN|2|250|mg/dL^^UCUM|100-199|H~A|||C|||"
        "20240301091500+0100|||||||||Lab One^L^^^^CLIA&2.16.840.1.113883.4.7&ISO^XX^^^11D")
    assert observation["referenceRange"][0]["low"]["value"] == 100
    assert observation["referenceRange"][0]["high"]["value"] == 199
    assert [i["coding"][0]["code"] for i in observation["interpretation"]] == ["H", "A"]
    assert observation["status"] == "corrected"
    assert observation["effectiveDateTime"] == "2024-03-01T09:15:00+01:00"
    assert observation["performer"][0]["display"] == "Lab One"
    assert observation["category"][0]["coding"][0]["code"] == "laboratory"


def test_report_time_is_the_default_effective_time_and_unknown_status_is_honest():
    observation = _observation("OBX|1|NM|2093-3^Cholesterol^LN||195|mg/dL^^UCUM|||||")
    assert observation["effectiveDateTime"] == "2024-03-01T09:00:00+01:00"
    assert observation["status"] == "unknown"


@pytest.mark.parametrize("obx, location", [
    ("OBX|1|NM|2093-3^Cholesterol^LN||NOVALUE|mg/dL|||||F", "OBX^1^5"),
    ("OBX|1|DT|11778-8^EDD^LN||next week||||||F", "OBX^1^5"),
    ("OBX|1|NM|2093-3^Cholesterol^LN||195||||||F|||2024-03-01", "OBX^1^14"),
    ("OBX|1|NM|||195||||||F", None),
])
def test_bad_values_name_the_field(obx: str, location: str | None):
    if location is None:  # no OBX-3: the report's code stands in
        assert _observation(obx)["code"]["coding"][0]["code"] == "24331-1"
        return
    with pytest.raises(MappingError) as raised:
        _observation(obx)
    assert raised.value.location == location and raised.value.code == "102"
