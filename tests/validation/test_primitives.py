"""Primitive values: JSON kind and the lexical rules of each type's StructureDefinition
(https://hl7.org/fhir/R4/datatypes.html#primitive, https://hl7.org/fhir/R4/json.html#primitive)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .helpers import findings, only_finding, patient


def _observation(**elements):
    return {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, **elements}


VALID = [
    ("birthDate", "2024"),
    ("birthDate", "2024-02"),
    ("birthDate", "2024-02-29"),
    ("deceasedDateTime", "2024-02-29T23:59:60.123+14:00"),
    ("deceasedDateTime", "2024-03-01T00:00:00Z"),
    ("deceasedDateTime", "2024-03"),
    ("multipleBirthInteger", 0),
    ("multipleBirthInteger", -2147483648),
    ("multipleBirthInteger", 2147483647),
    ("id", "a-Z.0" * 12 + "abcd"),
    ("implicitRules", "urn:oid:1.2.3"),
    ("language", "en-GB"),
]


@pytest.mark.parametrize(("element", "value"), VALID)
def test_valid_primitive_values(validator, element, value):
    assert findings(validator, patient(**{element: value})) == []


INVALID = [
    ("birthDate", "1990-4-12", "'1990-4-12' is not a valid date"),
    ("birthDate", "2023-02-29", "'2023-02-29' is not a valid date (no such day)"),
    ("birthDate", "2024-04-31", "'2024-04-31' is not a valid date (no such day)"),
    ("birthDate", "1990-04-12T10:00:00Z", "'1990-04-12T10:00:00Z' is not a valid date"),
    ("birthDate", 19900412, "date must be a JSON string, not the number 19900412"),
    ("deceasedDateTime", "2024-03-01T10:00", "'2024-03-01T10:00' is not a valid dateTime"),
    ("deceasedDateTime", "2024-03-01T10:00:00",
     "'2024-03-01T10:00:00' is not a valid dateTime"),
    ("deceasedDateTime", "2024-03-01 10:00:00Z",
     "'2024-03-01 10:00:00Z' is not a valid dateTime"),
    ("deceasedBoolean", "true", "boolean must be a JSON true or false, not a string"),
    ("deceasedBoolean", 1, "boolean must be a JSON true or false, not the number 1"),
    ("active", None, "boolean must be a JSON true or false, not null"),
    ("multipleBirthInteger", True, "integer must be a JSON number without a fraction, "
                                   "not a boolean"),
    ("multipleBirthInteger", "2", "integer must be a JSON number without a fraction, "
                                  "not a string"),
    ("multipleBirthInteger", Decimal("2.0"), "integer must be a JSON number without a "
                                             "fraction, not the number 2.0"),
    ("multipleBirthInteger", 2147483648, "2147483648 is above the maximum 2147483647 of "
                                         "integer"),
    ("multipleBirthInteger", -2147483649, "-2147483649 is below the minimum -2147483648 of "
                                          "integer"),
    ("id", "a_b", "'a_b' is not a valid id"),
    ("id", "x" * 65, f"'{'x' * 65}' is not a valid id"),
    ("id", 12, "id must be a JSON string, not the number 12"),
    ("implicitRules", "http://example.org/with space",
     "'http://example.org/with space' is not a valid uri"),
    ("language", "en GB ", "'en GB ' is not a valid code"),
    ("language", " en", "' en' is not a valid code"),
    ("gender", "", "an empty string is not a valid code (leave the element out)"),
]


@pytest.mark.parametrize(("element", "value", "message"), INVALID)
def test_invalid_primitive_values(validator, element, value, message):
    assert only_finding(validator, patient(**{element: value})) == (
        f"Patient.{element}", "value", message)


def test_decimal_kept_as_decimal_is_valid_and_float_like_strings_are_not(validator):
    quantity = {"value": Decimal("72.50"), "unit": "kg"}
    assert findings(validator, _observation(valueQuantity=quantity)) == []
    assert findings(validator, _observation(valueQuantity={"value": 3})) == []
    assert only_finding(validator, _observation(valueQuantity={"value": "72.5"})) == (
        "Observation.valueQuantity.value", "value",
        "decimal must be a JSON number, not a string")


def test_decimal_must_be_finite(validator):
    assert only_finding(validator, _observation(valueQuantity={"value": Decimal("NaN")})) == (
        "Observation.valueQuantity.value", "value", "NaN is not a valid decimal")


@pytest.mark.parametrize(("value", "ok"), [(1, True), (0, False), (-1, False)])
def test_positive_int(validator, value, ok):
    sampled = {"origin": {"value": 0}, "period": 1, "dimensions": value}
    found = findings(validator, _observation(valueSampledData=sampled))
    if ok:
        assert found == []
    else:
        assert found == [("Observation.valueSampledData.dimensions", "value",
                          f"{value} is not a valid positiveInt")]


@pytest.mark.parametrize(("value", "ok"), [(0, True), (7, True), (-1, False)])
def test_unsigned_int(validator, value, ok):
    attachment = {"contentType": "image/png", "size": value}
    found = findings(validator, patient(photo=[attachment]))
    if ok:
        assert found == []
    else:
        assert found == [("Patient.photo[0].size", "value", "-1 is not a valid unsignedInt")]


@pytest.mark.parametrize(("value", "ok"), [
    ("QUJD", True), ("QUJD\nREVG", True), ("QUJ", False), ("QU=D!", False),
    (" ".join(["QUJD"] * 40) + "!", False),
])
def test_base64_binary(validator, value, ok):
    found = findings(validator, patient(photo=[{"contentType": "image/png", "data": value}]))
    if ok:
        assert found == []
    else:
        assert found == [("Patient.photo[0].data", "value",
                          f"'{value[:80]}{'...' if len(value) > 80 else ''}' is not a valid "
                          "base64Binary")]


@pytest.mark.parametrize(("value", "ok"), [
    ("2024-05-01T08:30:00Z", True), ("2024-05-01T08:30:00.5+02:00", True),
    ("2024-05-01", False), ("2024-05-01T08:30Z", False),
])
def test_instant(validator, value, ok):
    found = findings(validator, patient(meta={"lastUpdated": value}))
    if ok:
        assert found == []
    else:
        assert found == [("Patient.meta.lastUpdated", "value",
                          f"'{value}' is not a valid instant")]


@pytest.mark.parametrize(("value", "ok"), [("08:30:00", True), ("8:30", False),
                                           ("24:00:00", False)])
def test_time(validator, value, ok):
    found = findings(validator, _observation(valueTime=value))
    if ok:
        assert found == []
    else:
        assert found == [("Observation.valueTime", "value", f"'{value}' is not a valid time")]


@pytest.mark.parametrize(("value", "ok"), [
    ("urn:oid:2.16.840.1.113883", True), ("2.16.840", False), ("urn:oid:2.16.08", False),
])
def test_oid(validator, value, ok):
    found = findings(validator, patient(identifier=[{"system": "urn:ietf:rfc:3986",
                                                     "value": "x"}],
                                        extension=[{"url": "http://example.org/o",
                                                    "valueOid": value}]))
    if ok:
        assert found == []
    else:
        assert found == [("Patient.extension[0].valueOid", "value",
                          f"'{value}' is not a valid oid")]


@pytest.mark.parametrize(("value", "ok"), [
    ("urn:uuid:c757873d-ec9a-4326-a141-556f43239520", True),
    ("urn:uuid:C757873D-EC9A-4326-A141-556F43239520", False),
    ("c757873d-ec9a-4326-a141-556f43239520", False),
])
def test_uuid(validator, value, ok):
    found = findings(validator, patient(extension=[{"url": "http://example.org/u",
                                                    "valueUuid": value}]))
    if ok:
        assert found == []
    else:
        assert found == [("Patient.extension[0].valueUuid", "value",
                          f"'{value}' is not a valid uuid")]


def test_string_longer_than_the_maximum_length(validator):
    resource = patient()
    resource["name"][0]["text"] = "a" * (1024 * 1024 + 1)
    assert only_finding(validator, resource) == (
        "Patient.name[0].text", "value", "string is longer than 1048576 characters")


def test_string_with_a_control_character(validator):
    resource = patient()
    resource["name"][0]["family"] = "Oka\x0cfor"
    assert only_finding(validator, resource) == (
        "Patient.name[0].family", "value", "'Oka\x0cfor' is not a valid string")


def test_non_ascii_text_is_a_valid_string(validator):
    resource = patient()
    resource["name"][0]["family"] = "N\u2019Dour\u00a0Sm\u00f8rgrav \u738b"
    assert findings(validator, resource) == []
