"""Choice elements ``[x]`` (https://hl7.org/fhir/R4/formats.html#choice), extensions
(https://hl7.org/fhir/R4/extensibility.html) and the ``_name`` siblings that carry a
primitive's id and extensions (https://hl7.org/fhir/R4/json.html#primitive)."""

from __future__ import annotations

from .helpers import findings, only_finding, patient

ABSENT = {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
          "valueCode": "unknown"}


def _observation(**elements):
    return {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, **elements}


def test_each_allowed_choice_type_is_accepted(validator):
    for element, value in [("valueQuantity", {"value": 3, "unit": "kg"}),
                           ("valueString", "high"), ("valueBoolean", False),
                           ("valueInteger", 4), ("valuePeriod", {"start": "2024"}),
                           ("valueCodeableConcept", {"text": "positive"})]:
        assert findings(validator, _observation(**{element: value})) == [], element


def test_choice_type_not_allowed_for_the_element(validator):
    assert only_finding(validator, _observation(valueDecimal=3)) == (
        "Observation.valueDecimal", "structure",
        "'valueDecimal' is not an allowed type for Observation.value[x]")


def test_choice_with_wrong_type_name_case(validator):
    assert only_finding(validator, _observation(valuequantity={"value": 1})) == (
        "Observation.valuequantity", "structure",
        "'valuequantity' is not an allowed type for Observation.value[x]")


def test_bare_choice_name_is_not_an_element(validator):
    assert only_finding(validator, _observation(value="x")) == (
        "Observation.value", "structure",
        "'value' is not an allowed type for Observation.value[x]")


def test_at_most_one_choice_type(validator):
    found = findings(validator, _observation(valueString="a", valueBoolean=True))
    assert found == [("Observation.value", "structure",
                      "Only one type may be given for Observation.value[x], found "
                      "valueBoolean, valueString")]


def test_choice_value_is_checked_as_its_type(validator):
    assert only_finding(validator, _observation(valueQuantity={"value": "3"})) == (
        "Observation.valueQuantity.value", "value",
        "decimal must be a JSON number, not a string")


def test_primitive_extension_sibling(validator):
    resource = patient(birthDate="1990", _birthDate={"extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
         "valueDateTime": "1990-04-12T10:00:00+01:00"}]})
    assert findings(validator, resource) == []


def test_primitive_extension_without_the_value(validator):
    assert findings(validator, patient(_gender={"extension": [ABSENT]})) == []


def test_primitive_extension_contents_are_checked(validator):
    resource = patient(_birthDate={"extension": [{"url": "http://x", "valueDate": "1990-13"}],
                                   "value": "1990"})
    assert findings(validator, resource) == [
        ("Patient.birthDate.extension[0].valueDate", "value", "'1990-13' is not a valid date"),
        ("Patient.birthDate.value", "structure", "Unknown element 'value' in date"),
    ]


def test_primitive_extension_sibling_must_be_an_object(validator):
    assert only_finding(validator, patient(_birthDate="x")) == (
        "Patient.birthDate", "structure",
        "_birthDate must hold a JSON object with id or extension, not a string")


def test_primitive_array_with_extension_array_and_nulls(validator):
    resource = {"resourceType": "Patient", "name": [{
        "given": ["Ada", None, "Lovelace"],
        "_given": [None, {"extension": [ABSENT]}, {"id": "g3"}],
    }]}
    assert findings(validator, resource) == []


def test_extension_array_alone(validator):
    resource = {"resourceType": "Patient", "name": [{"_given": [{"extension": [ABSENT]}]}]}
    assert findings(validator, resource) == []


def test_primitive_array_and_extension_array_of_different_lengths(validator):
    resource = {"resourceType": "Patient", "name": [{
        "given": ["Ada", "Lovelace"], "_given": [{"id": "g1"}]}]}
    assert only_finding(validator, resource) == (
        "Patient.name[0].given", "structure",
        "given and _given must have the same number of items")


def test_null_at_the_same_place_in_both_arrays(validator):
    resource = {"resourceType": "Patient", "name": [{
        "given": ["Ada", None], "_given": [{"id": "g1"}, None]}]}
    assert only_finding(validator, resource) == (
        "Patient.name[0].given[1]", "structure",
        "null is only allowed in given where the matching _given item carries an id or "
        "extension")


def test_extension_array_for_a_single_primitive_is_rejected(validator):
    assert only_finding(validator, patient(_gender=[{"id": "x"}])) == (
        "Patient.gender", "structure",
        "_gender must hold a JSON object with id or extension, not an array")


def test_extension_needs_a_url(validator):
    assert only_finding(validator, patient(extension=[{"valueString": "x"}])) == (
        "Patient.extension[0].url", "required",
        "Extension.url is required (minimum cardinality 1) but missing")


def test_extension_needs_a_value_or_nested_extensions(validator):
    assert only_finding(validator, patient(extension=[{"url": "http://x"}])) == (
        "Patient.extension[0]", "invariant",
        "ext-1: Must have either extensions or value[x], not both")


def test_extension_cannot_have_both_a_value_and_nested_extensions(validator):
    extension = {"url": "http://x", "valueString": "a",
                 "extension": [{"url": "part", "valueInteger": 1}]}
    assert only_finding(validator, patient(extension=[extension])) == (
        "Patient.extension[0]", "invariant",
        "ext-1: Must have either extensions or value[x], not both")


def test_nested_extensions_are_checked(validator):
    extension = {"url": "http://hl7.org/fhir/StructureDefinition/patient-nationality",
                 "extension": [{"url": "code", "valueCodeableConcept": {"text": "NL"}},
                               {"url": "period", "valuePeriod": {"start": "yesterday"}}]}
    assert only_finding(validator, patient(extension=[extension])) == (
        "Patient.extension[0].extension[1].valuePeriod.start", "value",
        "'yesterday' is not a valid dateTime")


def test_extension_value_type_must_be_a_fhir_type(validator):
    assert only_finding(validator, patient(extension=[{"url": "http://x",
                                                        "valueWhatever": 1}])) == (
        "Patient.extension[0].valueWhatever", "structure",
        "'valueWhatever' is not an allowed type for Extension.value[x]")


def test_modifier_extension_is_an_extension(validator):
    assert only_finding(validator, patient(modifierExtension=[{"valueBoolean": True}])) == (
        "Patient.modifierExtension[0].url", "required",
        "Extension.url is required (minimum cardinality 1) but missing")


def test_extensions_on_datatypes_and_backbone_elements(validator):
    resource = patient(contact=[{"extension": [{"url": "http://x"}],
                                 "name": {"extension": [{"url": "http://y",
                                                         "valueInteger": "1"}]}}])
    assert findings(validator, resource) == [
        ("Patient.contact[0].extension[0]", "invariant",
         "ext-1: Must have either extensions or value[x], not both"),
        ("Patient.contact[0].name.extension[0].valueInteger", "value",
         "integer must be a JSON number without a fraction, not a string"),
    ]
