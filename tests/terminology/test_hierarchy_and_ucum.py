"""What token and quantity search use from terminology: subsumption for ``:below`` and
``:above`` (LocalTerminology.codes_below/codes_above), ValueSet expansion for ``:in``, and
UCUM validation and conversion to base units (terminology/ucum.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from terminology import LocalTerminology, shipped_terminology
from terminology.ucum import canonical_quantity, is_valid_ucum

FEEDING = "https://example.org/CodeSystem/infant-feeding"
SYSTEM = {"resourceType": "CodeSystem", "url": FEEDING, "content": "complete", "concept": [
    {"code": "breast", "concept": [{"code": "exclusive"}, {"code": "partial", "concept": [
        {"code": "mixed"}]}]},
    {"code": "formula"}]}


def test_below_and_above():
    terminology = LocalTerminology([SYSTEM], base=shipped_terminology())
    assert terminology.codes_below(FEEDING, "breast") == {"breast", "exclusive", "partial",
                                                          "mixed"}
    assert terminology.codes_above(FEEDING, "mixed") == {"mixed", "partial", "breast"}
    assert terminology.codes_below(FEEDING, "formula") == {"formula"}
    assert terminology.codes_below("http://example.org/unknown", "x") is None


def test_a_stored_layer_sees_the_shipped_content():
    terminology = LocalTerminology([SYSTEM], base=shipped_terminology())
    expansion = terminology.expand("https://mch-fhir.org/fhir/ValueSet/pregnancy-status")
    assert ("http://snomed.info/sct", "77386006") in expansion.contains


@pytest.mark.parametrize(("code", "valid"), [
    ("kg", True), ("mm[Hg]", True), ("kg/m2", True), ("10*3/uL", True), ("{beats}/min", True),
    ("wk", True), ("mmHg", False), ("kilos", False), ("", False), (" kg", False)])
def test_ucum_validation(code, valid):
    assert is_valid_ucum(code) is valid


def test_ucum_conversion_to_base_units():
    pounds = canonical_quantity(Decimal("7.5"), "[lb_av]")
    kilos = canonical_quantity(Decimal("3.40194277"), "kg")
    assert pounds[1] == kilos[1] == "kilogram"
    assert abs(pounds[0] - kilos[0]) < Decimal("0.000001")
    assert canonical_quantity(40, "wk") == (Decimal("24192000"), "second")
    assert canonical_quantity(1, "mmHg") is None
    assert canonical_quantity(3, "{score}") is None
