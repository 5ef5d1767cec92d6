"""Values of the wrong JSON kind never crash the checks that read values (bindings,
invariants, UCUM codes, extension definitions): the structural check reports them and
those checks skip the objects around them (profiles/structure.py, Findings.malformed).
Numbers beyond 64 bits are handled per type (https://hl7.org/fhir/R4/datatypes.html:
``integer`` is 32-bit, ``decimal`` has arbitrary precision)."""

from __future__ import annotations

import pytest

from .helpers import findings

ALLERGY = {"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/1"}}
OBSERVATION = {"resourceType": "Observation", "status": "final", "code": {"text": "weight"}}
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
HUGE = 2**64


def _clinical_status(**coding):
    return {**ALLERGY, "clinicalStatus": {"coding": [{"code": "active", **coding}]}}


WRONG_KINDS = [
    # Coding.system as a list or an object on a required binding (was "unhashable type")
    (_clinical_status(system=[CONDITION_CLINICAL]),
     "AllergyIntolerance.clinicalStatus.coding[0].system", "single value, not an array"),
    (_clinical_status(system={"value": CONDITION_CLINICAL}),
     "AllergyIntolerance.clinicalStatus.coding[0].system", "must be a JSON string"),
    (_clinical_status(system=CONDITION_CLINICAL, code=["active"]),
     "AllergyIntolerance.clinicalStatus.coding[0].code", "single value, not an array"),
    # a bound code element (Observation.status) as an object or a number
    ({**OBSERVATION, "status": {"value": "final"}}, "Observation.status",
     "must be a JSON string"),
    ({**OBSERVATION, "status": 1}, "Observation.status", "must be a JSON string"),
    # Quantity.system / code of wrong kinds (UCUM check and qty-3)
    ({**OBSERVATION, "valueQuantity": {"value": 1, "system": ["http://unitsofmeasure.org"],
                                       "code": "kg"}},
     "Observation.valueQuantity.system", "single value, not an array"),
    ({**OBSERVATION, "valueQuantity": {"value": 1, "system": "http://unitsofmeasure.org",
                                       "code": {"c": "kg"}}},
     "Observation.valueQuantity.code", "must be a JSON string"),
    # the Python invariants' inputs of the wrong kind (obs-7, dom-3, ait-1, bdl-7)
    ({**OBSERVATION, "code": {"coding": 5}, "valueString": "x"}, "Observation.code.coding",
     "must be a JSON array"),
    ({**OBSERVATION, "contained": 5}, "Observation.contained", "must be a JSON array"),
    ({**ALLERGY, "verificationStatus": {"coding": [{"code": ["entered-in-error"]}]}},
     "AllergyIntolerance.verificationStatus.coding[0].code", "single value, not an array"),
    ({"resourceType": "Bundle", "type": "collection", "entry": {"fullUrl": "urn:x"}},
     "Bundle.entry", "must be a JSON array"),
    # an extension whose value has the wrong kind (checked against its definition)
    ({"resourceType": "Patient", "extension": [{
        "url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
        "valueAddress": {"city": ["Lagos"]}}]},
     "Patient.extension[0].valueAddress.city", "single value, not an array"),
    ({"resourceType": "Patient", "extension": [{
        "url": "http://hl7.org/fhir/StructureDefinition/patient-religion",
        "valueCodeableConcept": {"coding": [{"system": {"x": 1}, "code": "1013"}]}}]},
     "Patient.extension[0].valueCodeableConcept.coding[0].system", "must be a JSON string"),
    # a null in place of a contained resource
    ({"resourceType": "Patient", "contained": [None]}, "Patient.contained[0]", "null"),
]


@pytest.mark.parametrize(("resource", "location", "message"), WRONG_KINDS,
                         ids=[f"{i}-{case[1]}" for i, case in enumerate(WRONG_KINDS)])
def test_a_value_of_the_wrong_kind_is_an_issue_not_a_crash(validator, resource, location,
                                                            message):
    found = findings(validator, resource)
    assert any(where == location and message in text for where, _, text in found), found


def test_checks_that_read_values_still_run_beside_a_malformed_sibling_object(validator):
    """Only the objects around a malformed value skip those checks: a required binding
    elsewhere in the resource is still checked."""
    resource = {**_clinical_status(system=[CONDITION_CLINICAL]),
                "criticality": "extreme"}
    locations = {where for where, _, _ in findings(validator, resource)}
    assert locations == {"AllergyIntolerance.clinicalStatus.coding[0].system",
                         "AllergyIntolerance.criticality"}


def test_an_integer_beyond_64_bits_in_an_integer_element_is_out_of_range(validator):
    resource = {"resourceType": "Patient", "multipleBirthInteger": HUGE}
    [(location, code, message)] = findings(validator, resource)
    assert location == "Patient.multipleBirthInteger" and "above the maximum" in message


def test_an_integer_beyond_64_bits_inside_contained_is_reported(validator):
    """dom-3 over a resource with ``contained`` used to crash serialising such a number."""
    resource = {"resourceType": "Patient",
                "contained": [{"resourceType": "Patient", "id": "twin",
                               "multipleBirthInteger": HUGE}],
                "link": [{"other": {"reference": "#twin"}, "type": "seealso"}]}
    [(location, _, message)] = findings(validator, resource)
    assert location == "Patient.contained[0].multipleBirthInteger"
    assert "above the maximum 2147483647" in message


def test_a_decimal_beyond_64_bits_is_valid_also_inside_contained(validator):
    """A FHIR decimal has arbitrary precision: 2^64 and beyond is a valid value."""
    observation = {**OBSERVATION, "id": "o", "valueQuantity": {"value": HUGE * 1000}}
    resource = {"resourceType": "Patient", "contained": [observation],
                "link": [{"other": {"reference": "#o"}, "type": "seealso"}]}
    assert findings(validator, resource) == []
    assert findings(validator, observation) == []


def test_dom_3_still_finds_an_unreferenced_contained_resource(validator):
    resource = {"resourceType": "Patient",
                "contained": [{"resourceType": "Patient", "id": "twin"}]}
    issues = [i for i in validator.validate(resource) if i.severity == "error"]
    assert [i.diagnostics[:6] for i in issues] == ["dom-3:"]
