"""Each $match feature on its own: birth date, identifiers, sex, phone, address, birth
order and the mother (fhir_server.identity)."""

from __future__ import annotations

import pytest

from fhir_server.identity.birth_dates import compare_birth_dates, swapped_day_month
from fhir_server.identity.contact import (
    compare_addresses,
    compare_birth_order,
    compare_gender,
    compare_phones,
    phone_numbers,
)
from fhir_server.identity.identifiers import compare_identifiers
from fhir_server.identity.mothers import compare_mothers, mother_identifiers

HID = "https://example.org/fhir/sid/health-id"
MRN = "https://example.org/fhir/sid/mrn/phc-1"
ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"


@pytest.mark.parametrize(("a", "b", "level"), [
    ("1990-03-07", "1990-03-07", "exact"),
    ("1990-03-07", "1990-07-03", "day-month-swap"),
    ("1990-03-07", "1991-03-07", "year-off-by-one"),
    ("1990-03-07", "1990-03-17", "one-digit"),
    ("1990", "1990-05-05", "partial"),
    ("1990-05", "1990-05-06", "partial"),
    ("1990-05", "1990-06-06", "different"),
    ("1990-01-01", "1991-06-06", "estimated"),
    ("1990-01-01", "1993-06-06", "different"),
    ("1990-03-07", "1980-07-09", "different"),
    ("1990-02-30", "1990-02-30", "missing"),
    (None, "1990", "missing"),
])
def test_birth_date_levels(a: str | None, b: str, level: str) -> None:
    assert compare_birth_dates({"birthDate": a}, {"birthDate": b}) == level
    assert compare_birth_dates({"birthDate": b}, {"birthDate": a}) == level


def test_swapped_day_month() -> None:
    assert swapped_day_month("1990-03-07") == "1990-07-03"
    assert swapped_day_month("1990-03-17") is None
    assert swapped_day_month("1990-03-03") is None
    assert swapped_day_month("1990") is None


def _ids(*pairs: tuple[str | None, str]) -> dict:
    return {"identifier": [{"system": s, "value": v} if s else {"value": v} for s, v in pairs]}


@pytest.mark.parametrize(("a", "b", "level"), [
    (_ids((HID, "12-3456-7890-1234")), _ids((HID, "12345678901234")), "same-system-value"),
    (_ids((HID, "1"), (MRN, "PHC-123456")), _ids((HID, "2"), (MRN, "PHC-123456")), "conflicting"),
    (_ids((None, "PHC-123456")), _ids((MRN, "phc 123456")), "same-value"),
    (_ids((None, "123")), _ids((MRN, "123")), "missing"),  # too short to count
    (_ids((HID, "1")), _ids((HID, "2")), "different-value-same-system"),
    (_ids((HID, "1")), _ids((MRN, "2")), "missing"),
    (_ids(), _ids((MRN, "2")), "missing"),
])
def test_identifier_levels(a: dict, b: dict, level: str) -> None:
    assert compare_identifiers(a, b) == level
    assert compare_identifiers(b, a) == level


def test_gender() -> None:
    assert compare_gender({"gender": "female"}, {"gender": "female"}) == "same"
    assert compare_gender({"gender": "female"}, {"gender": "male"}) == "different"
    assert compare_gender({"gender": "unknown"}, {"gender": "male"}) == "missing"


def _phones(*values: str) -> dict:
    return {"telecom": [{"system": "phone", "value": v} for v in values]}


def test_phones_compare_on_the_last_ten_digits() -> None:
    assert phone_numbers(_phones("+91 98765 43210", "09876543210", "123")) == {"9876543210"}
    assert compare_phones(_phones("+91 98765 43210"), _phones("098765-43210")) == "same"
    assert compare_phones(_phones("9876543210"), _phones("9876543211")) == "different"
    assert compare_phones(_phones("9876543210"), {"telecom": [
        {"system": "email", "value": "9876543210"}]}) == "missing"


def _address(**parts: object) -> dict:
    return {"address": [parts]}


@pytest.mark.parametrize(("a", "b", "level"), [
    (_address(line=["H.No 12, Gandhi Nagar"], postalCode="226001"),
     _address(line=["House 12 Gandhi Nagar"], postalCode="226 001"), "postal-code-and-line"),
    (_address(line=["12 Station Road"], postalCode="226001"),
     _address(line=["4 Temple Street"], postalCode="226001"), "postal-code"),
    (_address(line=["12 Station Road"], city="Lucknow"),
     _address(line=["12 Station Road"], district="Lucknow"), "locality-and-line"),
    (_address(city="Bengaluru"), _address(city="Bangalore", district="Bengaluru Urban"),
     "different"),
    (_address(city="Patna"), _address(city="Patna", postalCode="800001"), "locality"),
    (_address(city="Patna"), {"address": []}, "missing"),
])
def test_address_levels(a: dict, b: dict, level: str) -> None:
    assert compare_addresses(a, b) == level


def test_birth_order() -> None:
    assert compare_birth_order({"multipleBirthInteger": 1}, {"multipleBirthInteger": 2}) == \
        "different-order"
    assert compare_birth_order({"multipleBirthInteger": 1}, {"multipleBirthInteger": 1}) == \
        "same-order"
    assert compare_birth_order({"multipleBirthBoolean": True}, {"multipleBirthInteger": 1}) == \
        "missing"


def _mother(*pairs: tuple[str, str], code: str = "MTH") -> dict:
    return {"resourceType": "RelatedPerson", "patient": {"reference": "#"},
            "relationship": [{"coding": [{"system": ROLE, "code": code}]}],
            **_ids(*pairs)}


def test_mother_identifiers_from_contained_and_given_related_persons() -> None:
    child = {"resourceType": "Patient", "contained": [_mother((HID, "11-1111"))]}
    assert mother_identifiers(child) == {(HID, "111111")}
    father = _mother((HID, "22-2222"), code="FTH")
    assert mother_identifiers({}, [father, _mother((MRN, "M-1"), code="NMTH")]) == \
        {(MRN, "M1")}
    uncontained = {"contained": [dict(_mother((HID, "1")), patient={"reference": "Patient/x"})]}
    assert mother_identifiers(uncontained) == set()


def test_mother_levels() -> None:
    mother = _ids((HID, "11-1111"))
    child_mothers = {(HID, "111111")}
    assert compare_mothers({}, mother, child_mothers, set()) == "is-mother"
    assert compare_mothers(mother, {}, set(), child_mothers) == "is-mother"
    assert compare_mothers({}, {}, child_mothers, {(HID, "111111")}) == "same"
    assert compare_mothers({}, {}, child_mothers, {(HID, "222222")}) == "different"
    assert compare_mothers({}, {}, child_mothers, {(MRN, "222222")}) == "missing"
    assert compare_mothers({}, {}, child_mothers, set()) == "missing"
