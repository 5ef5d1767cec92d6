"""Required bindings on core elements (https://hl7.org/fhir/R4/terminologies.html#required),
checked against the shipped R4 ValueSets and CodeSystems."""

from __future__ import annotations

from .helpers import findings, only_finding, patient

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def _condition(**elements):
    return {"resourceType": "Condition", "subject": {"reference": "Patient/1"}, **elements}


def test_code_in_the_value_set(validator):
    for gender in ("female", "male", "other", "unknown"):
        assert findings(validator, patient(gender=gender)) == []


def test_code_not_in_the_value_set(validator):
    assert only_finding(validator, patient(gender="F")) == (
        "Patient.gender", "code-invalid",
        "The code 'F' is not in the required value set "
        "http://hl7.org/fhir/ValueSet/administrative-gender (allowed: female, male, other, "
        "unknown)")


def test_observation_status(validator):
    observation = {"resourceType": "Observation", "status": "done", "code": {"text": "x"}}
    location, code, message = only_finding(validator, observation)
    assert (location, code) == ("Observation.status", "code-invalid")
    assert message.startswith("The code 'done' is not in the required value set "
                              "http://hl7.org/fhir/ValueSet/observation-status (allowed: ")


def test_code_in_a_backbone_element(validator):
    resource = patient(link=[{"other": {"reference": "Patient/2"}, "type": "same"}])
    location, code, message = only_finding(validator, resource)
    assert (location, code) == ("Patient.link[0].type", "code-invalid")
    assert "http://hl7.org/fhir/ValueSet/link-type" in message


def test_code_in_a_datatype(validator):
    resource = patient(telecom=[{"system": "pager", "value": "1"},
                                {"system": "telegraph", "value": "2"}])
    location, code, message = only_finding(validator, resource)
    assert (location, code) == ("Patient.telecom[1].system", "code-invalid")
    assert "'telegraph'" in message and "contact-point-system" in message


def test_value_set_drawn_from_a_v3_code_system(validator):
    ok = {"resourceType": "Encounter", "status": "finished",
          "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "AMB"}}
    assert findings(validator, ok) == []


def test_codeable_concept_with_a_coding_from_the_value_set(validator):
    concept = {"coding": [{"system": "http://snomed.info/sct", "code": "55561003"},
                          {"system": CLINICAL, "code": "active"}]}
    assert findings(validator, _condition(clinicalStatus=concept)) == []


def test_codeable_concept_with_no_coding_from_the_value_set(validator):
    concept = {"coding": [{"system": CLINICAL, "code": "dormant"},
                          {"system": "http://example.org/other", "code": "active"}]}
    assert only_finding(validator, _condition(clinicalStatus=concept)) == (
        "Condition.clinicalStatus.coding", "code-invalid",
        f"None of the codings ({CLINICAL}#dormant, http://example.org/other#active) is in "
        "the required value set http://hl7.org/fhir/ValueSet/condition-clinical (allowed: "
        "active, inactive, recurrence, relapse, remission, resolved)")


def test_codeable_concept_with_text_only(validator):
    assert only_finding(validator, _condition(clinicalStatus={"text": "active"})) == (
        "Condition.clinicalStatus", "code-invalid",
        "A coding from the required value set http://hl7.org/fhir/ValueSet/condition-clinical "
        "is needed; text alone is not enough")


def test_coding_system_must_match(validator):
    concept = {"coding": [{"system": "http://hl7.org/fhir/administrative-gender",
                           "code": "active"}]}
    location, code, _ = only_finding(validator, _condition(clinicalStatus=concept))
    assert (location, code) == ("Condition.clinicalStatus.coding", "code-invalid")


def test_value_set_that_cannot_be_expanded_locally_does_not_fail(validator):
    # Attachment.contentType is bound (required) to all MIME types (urn:ietf:bcp:13)
    resource = patient(photo=[{"contentType": "image/x-made-up", "data": "QUJD"}])
    assert findings(validator, resource) == []


def test_quantity_bound_to_ucum_is_not_failed_without_ucum(validator):
    resource = {"resourceType": "RiskEvidenceSynthesis", "status": "draft",
                "outcome": {"reference": "EvidenceVariable/1"},
                "population": {"reference": "EvidenceVariable/2"},
                "riskEstimate": {"unitOfMeasure": {"coding": [{
                    "system": "http://unitsofmeasure.org", "code": "mg/dL"}]}}}
    assert findings(validator, resource) == []


def test_binding_is_not_checked_on_a_malformed_code(validator):
    location, code, message = only_finding(validator, patient(gender="fe male"))
    assert (location, code) == ("Patient.gender", "code-invalid")
    location, code, message = only_finding(validator, patient(gender=" female"))
    assert (location, code, message) == ("Patient.gender", "value",
                                         "' female' is not a valid code")


def test_coding_system_naming_a_value_set_is_an_error(validator):
    """Coding.system names a code system; a URL known only as a ValueSet is a mistake."""
    resource = {"resourceType": "Patient", "maritalStatus": {"coding": [
        {"system": "http://hl7.org/fhir/ValueSet/marital-status", "code": "M"}]}}
    assert findings(validator, resource) == [
        ("Patient.maritalStatus.coding[0].system", "invalid",
         "The Coding references a value set, not a code system "
         "('http://hl7.org/fhir/ValueSet/marital-status')")]
    resource["maritalStatus"]["coding"][0]["system"] = (
        "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus")
    assert findings(validator, resource) == []
