"""ValueSet expansion of the local terminology service
(https://hl7.org/fhir/R4/valueset.html#compose), on small hand-written content."""

from __future__ import annotations

import pytest

from terminology import LocalTerminology, TerminologyService, shipped_terminology

SYSTEM = "http://example.org/CodeSystem/feeding"
FEEDING = {
    "resourceType": "CodeSystem", "url": SYSTEM, "content": "complete",
    "concept": [
        {"code": "breast", "concept": [{"code": "exclusive"}, {"code": "partial",
                                                              "concept": [{"code": "mixed"}]}]},
        {"code": "formula", "property": [{"code": "status", "valueCode": "retired"}]},
        {"code": "donor", "property": [{"code": "parent", "valueCode": "breast"}]},
    ],
}


def _value_set(url, **compose):
    return {"resourceType": "ValueSet", "url": url, "compose": compose}


def _terminology(*value_sets, code_systems=(FEEDING,)):
    return LocalTerminology([*code_systems, *value_sets])


def _codes(terminology, url):
    expansion = terminology.expand(url)
    return None if expansion is None else sorted(code for _, code in expansion.contains)


def test_local_terminology_implements_the_protocol():
    assert isinstance(_terminology(), TerminologyService)
    assert _terminology().expand("http://example.org/none") is None


def test_whole_code_system_including_nested_concepts():
    terminology = _terminology(_value_set("http://vs/all", include=[{"system": SYSTEM}]))
    assert _codes(terminology, "http://vs/all") == ["breast", "donor", "exclusive", "formula",
                                                    "mixed", "partial"]


def test_version_suffix_is_ignored():
    terminology = _terminology(_value_set("http://vs/all", include=[{"system": SYSTEM}]))
    assert terminology.validate_code("http://vs/all|4.0.1", "mixed", SYSTEM) is True


def test_enumerated_concepts_and_exclude():
    terminology = _terminology(_value_set(
        "http://vs/some",
        include=[{"system": SYSTEM, "concept": [{"code": "breast"}, {"code": "formula"}]}],
        exclude=[{"system": SYSTEM, "concept": [{"code": "formula"}]}]))
    assert _codes(terminology, "http://vs/some") == ["breast"]


@pytest.mark.parametrize(("op", "value", "expected"), [
    ("is-a", "breast", ["breast", "donor", "exclusive", "mixed", "partial"]),
    ("descendent-of", "breast", ["donor", "exclusive", "mixed", "partial"]),
    ("is-not-a", "breast", ["formula"]),
    ("in", "formula,donor,nothing", ["donor", "formula"]),
])
def test_hierarchy_filters(op, value, expected):
    terminology = _terminology(_value_set("http://vs/f", include=[{
        "system": SYSTEM, "filter": [{"property": "concept", "op": op, "value": value}]}]))
    assert _codes(terminology, "http://vs/f") == expected


def test_property_and_regex_filters():
    terminology = _terminology(
        _value_set("http://vs/retired", include=[{"system": SYSTEM, "filter": [
            {"property": "status", "op": "=", "value": "retired"}]}]),
        _value_set("http://vs/regex", include=[{"system": SYSTEM, "filter": [
            {"property": "code", "op": "regex", "value": "[a-e].*"}]}]))
    assert _codes(terminology, "http://vs/retired") == ["formula"]
    assert _codes(terminology, "http://vs/regex") == ["breast", "donor", "exclusive"]


def test_value_set_including_value_sets_intersects_them():
    terminology = _terminology(
        _value_set("http://vs/breast", include=[{"system": SYSTEM, "filter": [
            {"property": "concept", "op": "is-a", "value": "breast"}]}]),
        _value_set("http://vs/leaves", include=[{"system": SYSTEM, "concept": [
            {"code": "mixed"}, {"code": "formula"}, {"code": "exclusive"}]}]),
        _value_set("http://vs/both", include=[{"valueSet": ["http://vs/breast",
                                                            "http://vs/leaves"]}]))
    assert _codes(terminology, "http://vs/both") == ["exclusive", "mixed"]


def test_code_system_not_held_makes_the_value_set_unexpandable():
    terminology = _terminology(_value_set("http://vs/snomed", include=[
        {"system": "http://snomed.info/sct"}]))
    assert terminology.expand("http://vs/snomed") is None
    assert terminology.validate_code("http://vs/snomed", "77386006") is None


def test_incomplete_code_system_makes_the_value_set_unexpandable():
    fragment = {**FEEDING, "content": "fragment"}
    terminology = _terminology(_value_set("http://vs/all", include=[{"system": SYSTEM}]),
                               code_systems=(fragment,))
    assert terminology.expand("http://vs/all") is None


def test_unsupported_filter_makes_the_value_set_unexpandable():
    terminology = _terminology(_value_set("http://vs/x", include=[{"system": SYSTEM, "filter": [
        {"property": "concept", "op": "generalizes", "value": "mixed"}]}]))
    assert terminology.expand("http://vs/x") is None


def test_value_set_including_itself_is_unexpandable_not_endless():
    terminology = _terminology(_value_set("http://vs/loop", include=[
        {"valueSet": ["http://vs/loop"]}]))
    assert terminology.expand("http://vs/loop") is None


def test_stored_expansion_is_used_without_compose():
    terminology = _terminology({"resourceType": "ValueSet", "url": "http://vs/e", "expansion": {
        "contains": [{"system": SYSTEM, "code": "breast",
                      "contains": [{"system": SYSTEM, "code": "mixed"}]}]}})
    assert _codes(terminology, "http://vs/e") == ["breast", "mixed"]


def test_validate_code_with_and_without_system():
    terminology = _terminology(_value_set("http://vs/all", include=[{"system": SYSTEM}]))
    assert terminology.validate_code("http://vs/all", "mixed") is True
    assert terminology.validate_code("http://vs/all", "mixed", SYSTEM) is True
    assert terminology.validate_code("http://vs/all", "mixed", "http://other") is False
    assert terminology.validate_code("http://vs/all", "cow") is False


def test_shipped_content_expands_core_value_sets():
    shipped = shipped_terminology()
    assert shipped.validate_code("http://hl7.org/fhir/ValueSet/administrative-gender",
                                 "female", "http://hl7.org/fhir/administrative-gender") is True
    # v2 table 0131 minus the is-not-a "O" branch
    contact = _codes(shipped, "http://hl7.org/fhir/ValueSet/patient-contactrelationship")
    assert contact is not None and "N" in contact and "O" not in contact
    assert shipped.expand("http://hl7.org/fhir/ValueSet/mimetypes") is None
