"""Core invariants: the Python versions agree with the FHIRPath expressions they stand for
(evaluated with fhirpathpy on the same resources), and both kinds report their key and
location (profiles/invariants.py)."""

from __future__ import annotations

import pytest

from profiles.definitions import structure_definitions
from profiles.fhirpath import compile_invariant, evaluate_invariant
from profiles.findings import Findings
from profiles.invariants import PYTHON_INVARIANTS
from terminology import shipped_terminology

from .helpers import findings

# fhirpathpy cannot evaluate these (hasValue(), Quantity comparison): expected values are
# the FHIRPath semantics (values of different precision that agree so far do not compare,
# and the constraint then fails).
BY_SPEC = [
    ("per-1", {"start": "2026-01-02", "end": "2026-01-01"}, False),
    ("per-1", {"start": "2026-01-01T10:00:00Z", "end": "2026-01-01T11:00:00Z"}, True),
    ("per-1", {"start": "2026-01-01T10:00:00+02:00", "end": "2026-01-01T09:00:00Z"}, True),
    ("per-1", {"start": "2026-01-01", "end": "2026-01-01T06:20:00Z"}, False),
    ("per-1", {"start": "2025", "end": "2026-01-01"}, True),
    ("per-1", {"end": "2026-01-01"}, True),
    ("rng-2", {"low": {"value": 5, "code": "kg"}, "high": {"value": 3, "code": "kg"}}, False),
    ("rng-2", {"low": {"value": 3, "code": "kg"}, "high": {"value": 5, "code": "kg"}}, True),
]

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

CASES = [
    ("obs-6", "Observation", {"resourceType": "Observation", "valueString": "x",
                              "dataAbsentReason": {"text": "y"}}),
    ("obs-6", "Observation", {"resourceType": "Observation", "valueString": "x"}),
    ("con-4", "Condition", {"resourceType": "Condition", "abatementDateTime": "2020",
                            "clinicalStatus": {"coding": [{"system": CLINICAL,
                                                           "code": "active"}]}}),
    ("con-4", "Condition", {"resourceType": "Condition", "abatementDateTime": "2020",
                            "clinicalStatus": {"coding": [{"system": CLINICAL,
                                                           "code": "resolved"}]}}),
    ("con-5", "Condition", {"resourceType": "Condition", "clinicalStatus": {"text": "x"},
                            "verificationStatus": {"coding": [{"system": VERIFICATION,
                                                               "code": "entered-in-error"}]}}),
    ("ait-1", "AllergyIntolerance", {"resourceType": "AllergyIntolerance"}),
    ("ait-2", "AllergyIntolerance", {"resourceType": "AllergyIntolerance",
                                     "clinicalStatus": {"text": "x"}}),
    ("org-1", "Organization", {"resourceType": "Organization", "active": True}),
    ("org-1", "Organization", {"resourceType": "Organization", "name": "Clinic"}),
    ("prr-1", "ServiceRequest", {"resourceType": "ServiceRequest",
                                 "orderDetail": [{"text": "x"}]}),
    ("rat-1", "Ratio", {"numerator": {"value": 1}}),
    ("cpt-2", "ContactPoint", {"value": "123"}),
    ("att-1", "Attachment", {"data": "QUJD"}),
    ("qty-3", "Quantity", {"value": 1, "code": "kg"}),
    ("dom-2", "Patient", {"resourceType": "Patient", "contained": [
        {"resourceType": "Patient", "id": "a", "contained": [{"resourceType": "Patient"}]}]}),
    ("dom-4", "Patient", {"resourceType": "Patient", "contained": [
        {"resourceType": "Patient", "id": "a", "meta": {"versionId": "1"}}]}),
]


def _constraint(key: str, path: str) -> dict:
    type_name = path.split(".", 1)[0]
    definition = structure_definitions()[f"http://hl7.org/fhir/StructureDefinition/{type_name}"]
    for element in definition["snapshot"]["element"]:
        for constraint in element.get("constraint", []):
            if constraint["key"] == key:
                return constraint
    raise KeyError(key)


@pytest.mark.parametrize(("key", "path", "value"), CASES,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)])
def test_python_version_agrees_with_fhirpath(key, path, value):
    compiled = compile_invariant(_constraint(key, path), path)
    expected = evaluate_invariant(compiled, value, value, value)
    context = Findings(shipped_terminology(), resource=value, root=value, container=value)
    assert PYTHON_INVARIANTS[key](value, context) == expected


@pytest.mark.parametrize(("key", "value", "expected"), BY_SPEC,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(BY_SPEC)])
def test_python_version_follows_the_spec(key, value, expected):
    context = Findings(shipped_terminology(), resource=value, root=value, container=value)
    assert PYTHON_INVARIANTS[key](value, context) is expected


def test_a_fhirpath_invariant_is_reported(validator):
    """tim-2 (no Python version): a period needs a periodUnit."""
    resource = {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                "medicationCodeableConcept": {"text": "x"}, "subject": {"reference": "Patient/1"},
                "dosageInstruction": [{"timing": {"repeat": {"period": 8}}}]}
    [(location, code, message)] = findings(validator, resource)
    assert location == "MedicationRequest.dosageInstruction[0].timing.repeat"
    assert code == "invariant" and message.startswith("tim-2")


RISK = {"resourceType": "RiskAssessment", "status": "final",
        "subject": {"reference": "Patient/1"}}


def _errors(validator, resource):
    return [(i.expression[0], i.diagnostics.split(":", 1)[0])
            for i in validator.validate(resource) if i.severity == "error"]


def test_an_invariant_on_an_absent_value_holds(validator):
    """ras-2 ``probability is decimal implies (probability as decimal) <= 100``: without a
    probability the expression is empty, which is not a violation."""
    assert _errors(validator, {**RISK, "prediction": [{"outcome": {"text": "stroke"}}]}) == []
    assert _errors(validator, {**RISK, "prediction": [{"probabilityDecimal": 40}]}) == []
    assert _errors(validator, {**RISK, "prediction": [{"probabilityDecimal": 140}]}) == [
        ("RiskAssessment.prediction[0]", "ras-2")]


def _enable_when(**answer):
    return {"resourceType": "Questionnaire", "status": "active", "item": [
        {"linkId": "1", "type": "boolean"},
        {"linkId": "2", "type": "string",
         "enableWhen": [{"question": "1", "operator": "exists", **answer}]}]}


def test_a_fhir_boolean_is_a_boolean_for_is(validator):
    """que-7 ``operator = 'exists' implies (answer is Boolean)``: ``answerBoolean`` is a
    FHIR boolean, which is a System Boolean to ``is``."""
    assert _errors(validator, _enable_when(answerBoolean=True)) == []
    assert _errors(validator, _enable_when(answerBoolean=False)) == []
    assert _errors(validator, _enable_when(answerString="yes")) == [
        ("Questionnaire.item[1].enableWhen[0]", "que-7")]


def _structure_definition():
    """A small StructureDefinition whose snapshot satisfies sdf-8 (%resource.type)."""
    return {"resourceType": "StructureDefinition", "url": "http://example.org/sd/obs",
            "name": "Obs", "status": "active", "kind": "resource", "abstract": False,
            "type": "Observation", "derivation": "constraint",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
            "snapshot": {"element": [
                {"id": "Observation", "path": "Observation", "definition": "Measurements",
                 "min": 0, "max": "*", "base": {"path": "Observation", "min": 0, "max": "*"}},
                {"id": "Observation.status", "path": "Observation.status",
                 "definition": "The status", "min": 1, "max": "1",
                 "base": {"path": "Observation.status", "min": 1, "max": "1"},
                 "type": [{"code": "code"}]}]},
            "differential": {"element": [{"id": "Observation.status",
                                          "path": "Observation.status", "min": 1}]}}


def test_resource_in_a_bundle_entry_is_its_own_resource_variable(validator):
    """sdf-8 reads ``%resource.type``: inside a Bundle, %resource is the entry's resource."""
    definition = _structure_definition()
    assert _errors(validator, definition) == []
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "http://example.org/sd/obs", "resource": definition}]}
    assert _errors(validator, bundle) == []
    definition["type"] = "Patient"
    assert ("Bundle.entry[0].resource.snapshot", "sdf-8") in _errors(validator, bundle)


def test_contained_resource_is_its_own_resource_variable(validator):
    """A contained resource is %resource for its own invariants (fhirpath.html#variables)."""
    definition = _structure_definition()
    definition["id"] = "sd"
    container = {"resourceType": "Basic", "code": {"text": "x"}, "contained": [definition],
                 "extension": [{"url": "http://example.org/definition",
                                "valueReference": {"reference": "#sd"}}]}
    assert _errors(validator, container) == []


def _holds(expression, path, value, resource, root):
    compiled = compile_invariant({"key": "t", "expression": expression}, path)
    return evaluate_invariant(compiled, value, resource, root)


def test_context_has_the_type_of_its_element():
    """``%context.type()`` is the element's datatype, or the resource's own type; inside a
    contained resource, element paths are read from that resource's type."""
    practitioner = {"resourceType": "Practitioner", "id": "p", "name": [{"text": "Dr"}]}
    patient = {"resourceType": "Patient", "contained": [practitioner],
               "generalPractitioner": [{"reference": "#p"}]}
    reference = patient["generalPractitioner"][0]
    assert _holds("%context.type().name = 'Reference'", "Patient.generalPractitioner",
                  reference, patient, patient) is True
    assert _holds("%context.type().name = 'Practitioner' and %resource.type().name = "
                  "'Patient'", "Patient.contained", practitioner, patient, patient) is True
    assert _holds("%context.type().name = 'HumanName' and %resource.type().name = "
                  "'Practitioner' and %rootResource.type().name = 'Patient'",
                  "Patient.contained.name", practitioner["name"][0], practitioner,
                  patient) is True
    assert _holds("%context.type().name = 'Reference'", "Patient.contained.name",
                  practitioner["name"][0], practitioner, patient) is False
