"""Resources inside resources (contained, Bundle.entry.resource, Parameters.parameter.resource)
are validated as resources of their own type (https://hl7.org/fhir/R4/references.html#contained)."""

from __future__ import annotations

from .helpers import findings, only_finding, patient


def test_contained_resource_is_validated_as_its_own_type(validator):
    medication = {"resourceType": "Medication", "id": "med1", "status": "shelved"}
    request = {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
               "contained": [medication], "medicationReference": {"reference": "#med1"},
               "subject": {"reference": "Patient/1"}}
    assert only_finding(validator, request) == (
        "MedicationRequest.contained[0].status", "code-invalid",
        "The code 'shelved' is not in the required value set "
        "http://hl7.org/fhir/ValueSet/medication-status (allowed: active, entered-in-error, "
        "inactive)")


def test_contained_resource_with_unknown_type(validator):
    resource = patient(contained=[{"resourceType": "Medicine", "id": "m"}],
                       managingOrganization={"reference": "#m"})
    assert only_finding(validator, resource) == (
        "Patient.contained[0].resourceType", "structure", "Unknown resourceType 'Medicine'")


def test_contained_resource_without_resource_type(validator):
    resource = patient(contained=[{"id": "m", "code": {"text": "x"}}],
                       managingOrganization={"reference": "#m"})
    assert only_finding(validator, resource) == (
        "Patient.contained[0]", "required", "The resource has no resourceType")


def test_contained_resource_id_format(validator):
    resource = patient(contained=[{"resourceType": "Organization", "id": "org 1",
                                   "name": "Clinic"}],
                       managingOrganization={"reference": "#org 1"})
    assert only_finding(validator, resource) == (
        "Patient.contained[0].id", "value", "'org 1' is not a valid id")


def test_bundle_entries_are_validated(validator):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:c757873d-ec9a-4326-a141-556f43239520",
         "resource": patient(), "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Observation", "status": "final",
                      "code": {"text": "x"}, "valueQuantity": {"value": "7"}},
         "request": {"method": "PUSH", "url": "Observation"}},
    ]}
    assert findings(validator, bundle) == [
        ("Bundle.entry[1].resource.valueQuantity.value", "value",
         "decimal must be a JSON number, not a string"),
        ("Bundle.entry[1].request.method", "code-invalid",
         "The code 'PUSH' is not in the required value set "
         "http://hl7.org/fhir/ValueSet/http-verb (allowed: DELETE, GET, HEAD, PATCH, POST, "
         "PUT)"),
    ]


def test_parameters_resource_parameter_is_validated(validator):
    parameters = {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": patient(gender="f")},
        {"name": "count", "valueInteger": 3},
    ]}
    assert only_finding(validator, parameters) == (
        "Parameters.parameter[0].resource.gender", "code-invalid",
        "The code 'f' is not in the required value set "
        "http://hl7.org/fhir/ValueSet/administrative-gender (allowed: female, male, other, "
        "unknown)")


def test_nested_resource_must_be_an_object(validator):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": "Patient"}]}
    assert only_finding(validator, bundle) == (
        "Bundle.entry[0].resource", "structure",
        "Bundle.entry.resource must be a JSON object (Resource), not a string")


def test_deeply_nested_content_is_reported_not_crashed(validator):
    extension = {"url": "http://x", "valueString": "leaf"}
    for _ in range(2000):
        extension = {"url": "http://x", "extension": [extension]}
    assert findings(validator, patient(extension=[extension])) == [
        ("Patient", "structure", "The resource is nested too deeply to validate")]


def test_bundle_entry_full_url_must_be_absolute(validator):
    """Bundle.entry.fullUrl is "the absolute URL for the resource" (urn:uuid: counts)."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "Patient/1", "resource": {"resourceType": "Patient", "id": "1"}},
        {"fullUrl": "urn:uuid:9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d",
         "resource": {"resourceType": "Patient"}},
        {"fullUrl": "http://example.org/fhir/Patient/3",
         "resource": {"resourceType": "Patient", "id": "3"}}]}
    assert findings(validator, bundle) == [
        ("Bundle.entry[0].fullUrl", "invalid",
         "The fullUrl must be an absolute URL (not 'Patient/1')")]
