"""Cardinality and the JSON shape it implies: arrays exactly for repeating elements,
no empty objects, arrays or strings, no nulls (https://hl7.org/fhir/R4/json.html)."""

from __future__ import annotations

from dataclasses import replace

from profiles.elements import model_for, type_url
from profiles.findings import Findings
from profiles.structure import check_object

from .helpers import findings, only_finding, patient


def test_required_element_missing(validator):
    observation = {"resourceType": "Observation", "status": "final"}
    assert only_finding(validator, observation) == (
        "Observation.code", "required",
        "Observation.code is required (minimum cardinality 1) but missing")


def test_required_element_missing_in_a_backbone_element(validator):
    resource = patient(link=[{"type": "seealso"}])
    assert only_finding(validator, resource) == (
        "Patient.link[0].other", "required",
        "Patient.link.other is required (minimum cardinality 1) but missing")


def test_required_choice_element_missing(validator):
    request = {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
               "subject": {"reference": "Patient/1"}}
    assert only_finding(validator, request) == (
        "MedicationRequest.medication", "required",
        "MedicationRequest.medication[x] is required (minimum cardinality 1) but missing")


def test_required_primitive_present_only_as_extension_counts(validator):
    observation = {"resourceType": "Observation", "code": {"text": "weight"},
                   "_status": {"extension": [{"url": "http://example.org/why-absent",
                                              "valueString": "unknown"}]}}
    assert findings(validator, observation) == []


def test_single_element_given_as_array(validator):
    assert only_finding(validator, patient(gender=["female"])) == (
        "Patient.gender", "structure", "Patient.gender is a single value, not an array")


def test_repeating_element_given_as_single_value(validator):
    resource = {"resourceType": "Patient", "name": {"family": "Okafor"}}
    assert only_finding(validator, resource) == (
        "Patient.name", "structure", "name repeats, so it must be a JSON array")


def test_repeating_primitive_given_as_single_value(validator):
    resource = {"resourceType": "Patient", "name": [{"given": "Ada"}]}
    assert only_finding(validator, resource) == (
        "Patient.name[0].given", "structure", "given repeats, so it must be a JSON array")


def test_finite_maximum_and_minimum_above_one(validator):
    # The core has no finite maximum above 1 or minimum above 1 (profiles do): tighten
    # Patient.name in a copy of the compiled Patient tree and check through it.
    core = model_for(type_url("Patient"))
    rule = replace(core.properties["name"], min=2, max=3)
    model = replace(core, properties={**core.properties, "name": rule})
    run = Findings(validator.terminology)
    names = [{"family": "A"}, {"family": "B"}, {"family": "C"}, {"family": "D"}]
    check_object({"resourceType": "Patient", "name": names}, model, "Patient", run)
    check_object({"resourceType": "Patient", "name": names[:1]}, model, "Patient", run)
    assert [(i.expression[0], i.code, i.diagnostics) for i in run.issues] == [
        ("Patient.name", "structure", "Patient.name allows at most 3 items, found 4"),
        ("Patient.name", "required", "Patient.name needs at least 2 items, found 1"),
    ]


def test_empty_object(validator):
    assert only_finding(validator, patient(maritalStatus={})) == (
        "Patient.maritalStatus", "structure",
        "An empty object is not allowed; leave the element out instead")


def test_empty_array(validator):
    assert only_finding(validator, patient(telecom=[])) == (
        "Patient.telecom", "structure", "An empty array is not allowed for telecom")


def test_empty_string(validator):
    resource = patient()
    resource["name"][0]["family"] = ""
    assert only_finding(validator, resource) == (
        "Patient.name[0].family", "value",
        "an empty string is not a valid string (leave the element out)")


def test_empty_object_inside_an_array(validator):
    assert only_finding(validator, patient(identifier=[{"value": "1"}, {}])) == (
        "Patient.identifier[1]", "structure",
        "An empty object is not allowed; leave the element out instead")


def test_null_single_value(validator):
    location, code, message = only_finding(validator, patient(gender=None))
    assert (location, code) == ("Patient.gender", "value")
    assert message == "code must be a JSON string, not null"


def test_null_in_an_array_of_complex_values(validator):
    resource = {"resourceType": "Patient", "name": [{"family": "Okafor"}, None]}
    assert only_finding(validator, resource) == (
        "Patient.name[1]", "structure", "null is not allowed in name")


def test_null_in_a_primitive_array_without_a_matching_extension(validator):
    resource = {"resourceType": "Patient", "name": [{"given": ["Ada", None]}]}
    assert only_finding(validator, resource) == (
        "Patient.name[0].given[1]", "structure",
        "null is only allowed in given where the matching _given item carries an id or "
        "extension")


def test_complex_element_given_a_primitive(validator):
    assert only_finding(validator, patient(maritalStatus="married")) == (
        "Patient.maritalStatus", "structure",
        "Patient.maritalStatus must be a JSON object (CodeableConcept), not a string")


def test_nested_datatype_problems_carry_the_full_path(validator):
    resource = patient(maritalStatus={"coding": [{"system": "http://x", "code": "M"},
                                                 {"code": "S", "userSelected": "yes"}]})
    assert only_finding(validator, resource) == (
        "Patient.maritalStatus.coding[1].userSelected", "value",
        "boolean must be a JSON true or false, not a string")


def test_content_reference_element_is_checked_like_its_target(validator):
    questionnaire = {
        "resourceType": "Questionnaire", "status": "draft",
        "item": [{"linkId": "1", "type": "group",
                  "item": [{"linkId": "1.1", "type": "string", "colour": "red"},
                           {"type": "string"}]}],
    }
    assert findings(validator, questionnaire) == [
        ("Questionnaire.item[0].item[0].colour", "structure",
         "Unknown element 'colour' in Questionnaire.item"),
        ("Questionnaire.item[0].item[1].linkId", "required",
         "Questionnaire.item.linkId is required (minimum cardinality 1) but missing"),
    ]


def test_element_with_maximum_zero_in_a_constrained_type(validator):
    # Observation.referenceRange.low is a SimpleQuantity: Quantity.comparator has max 0
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                   "referenceRange": [{"low": {"value": 1, "comparator": "<"}}]}
    assert only_finding(validator, observation) == (
        "Observation.referenceRange[0].low.comparator", "structure",
        "Quantity.comparator is not allowed here (maximum 0)")


COMMENTS = "http://hl7.org/fhir/StructureDefinition/codesystem-concept-comments"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"


def test_extension_value_present_only_as_its_primitive_extension_counts(validator):
    """CodeSystem/v2-0207 has a comment given only in Dutch: ``_valueString`` carries a
    translation and no ``valueString``; ``Extension.value[x]`` (1..1 in the extension's
    definition) is present (https://hl7.org/fhir/R4/json.html#primitive)."""
    translated = {"extension": [{"url": TRANSLATION, "extension": [
        {"url": "lang", "valueCode": "nl"}, {"url": "content", "valueString": "Niet aanwezig"}]}]}
    code_system = {"resourceType": "CodeSystem", "status": "active", "content": "complete",
                   "url": "http://example.org/CodeSystem/processing-mode",
                   "concept": [{"code": "N", "display": "Not present", "extension": [
                       {"url": COMMENTS, "_valueString": translated}]}]}
    assert findings(validator, code_system) == []
    del code_system["concept"][0]["extension"][0]["_valueString"]
    locations = [where for where, _, _ in findings(validator, code_system)]
    assert "CodeSystem.concept[0].extension[0]" in locations
