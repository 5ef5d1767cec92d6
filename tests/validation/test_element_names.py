"""Element names: only those of the StructureDefinition; unknown ones are rejected
(https://hl7.org/fhir/R4/json.html), and ``resourceType`` must name an R4 resource."""

from __future__ import annotations

from .helpers import findings, only_finding, patient


def test_a_valid_patient_has_no_issues(validator):
    assert findings(validator, patient(gender="female", birthDate="1990-04-12")) == []


def test_unknown_element_at_the_root_is_reported(validator):
    assert only_finding(validator, patient(nickname="Ada")) == (
        "Patient.nickname", "structure", "Unknown element 'nickname' in Patient")


def test_operator_like_key_is_an_unknown_element(validator):
    resource = patient(**{"$where": "sleep(1000)"})
    resource["name"][0]["$ne"] = "x"
    assert findings(validator, resource) == [
        ("Patient.name[0].$ne", "structure", "Unknown element '$ne' in HumanName"),
        ("Patient.$where", "structure", "Unknown element '$where' in Patient"),
    ]


def test_unknown_element_inside_a_backbone_element(validator):
    resource = patient(contact=[{"name": {"family": "Okafor"}, "colour": "blue"}])
    assert only_finding(validator, resource) == (
        "Patient.contact[0].colour", "structure", "Unknown element 'colour' in Patient.contact")


def test_element_of_another_resource_type_is_unknown(validator):
    location, code, message = only_finding(validator, patient(status="active"))
    assert (location, code) == ("Patient.status", "structure")
    assert message == "Unknown element 'status' in Patient"


def test_resource_type_must_be_an_r4_resource(validator):
    assert findings(validator, {"resourceType": "Pateint", "id": "x"}) == [
        ("resourceType", "structure", "Unknown resourceType 'Pateint'")]


def test_abstract_and_datatype_names_are_not_resource_types(validator):
    for name in ("DomainResource", "Resource", "HumanName"):
        assert findings(validator, {"resourceType": name}) == [
            ("resourceType", "structure", f"Unknown resourceType '{name}'")]


def test_missing_resource_type(validator):
    assert findings(validator, {"id": "x"}) == [
        ("Resource", "required", "The resource has no resourceType")]


def test_resource_type_inside_a_datatype_is_unknown(validator):
    resource = patient()
    resource["name"][0]["resourceType"] = "HumanName"
    assert only_finding(validator, resource) == (
        "Patient.name[0].resourceType", "structure",
        "Unknown element 'resourceType' in HumanName")


def test_underscore_sibling_of_a_complex_element_is_rejected(validator):
    resource = patient(_name=[{"extension": [{"url": "http://x", "valueString": "y"}]}])
    assert only_finding(validator, resource) == (
        "Patient._name", "structure", "'_name' is not allowed: 'name' is not a primitive element")


def test_underscore_sibling_of_an_unknown_element(validator):
    assert only_finding(validator, patient(_nickname={"id": "a"})) == (
        "Patient._nickname", "structure", "Unknown element '_nickname' in Patient")


def test_every_problem_is_reported_not_just_the_first(validator):
    resource = patient(foo=1, bar=2, gender="mail", birthDate="12/04/1990")
    locations = [location for location, _, _ in findings(validator, resource)]
    assert sorted(locations) == ["Patient.bar", "Patient.birthDate", "Patient.foo",
                                 "Patient.gender"]


def test_very_long_unknown_names_are_shortened_in_the_report(validator):
    location, _, message = only_finding(validator, patient(**{"x" * 500: 1}))
    assert len(location) < 120 and len(message) < 150
    assert location.endswith("...")
