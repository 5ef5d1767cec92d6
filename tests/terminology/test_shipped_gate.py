"""Which requests the shipped-content gate holds (fhir_server/interactions/shipped_gate.py):
those that could read or write a resource of a shipped type, and no other. The waiting
itself is tested black-box against a real server (test_startup.py)."""

from __future__ import annotations

import pytest

from fhir_server.errors import ServiceUnavailable
from fhir_server.interactions.shipped_gate import ShippedGate
from fhir_server.validation import shipped_content

TYPES = {r["resourceType"] for r in shipped_content()} | {"OperationDefinition"}


async def _never_stored() -> bool:
    return False


GATE = ShippedGate(TYPES, _never_stored, wait_seconds=0)


@pytest.mark.parametrize(("resource_type", "params", "every_type"), [
    ("ValueSet", [], False),
    ("CodeSystem", [("url", "http://hl7.org/fhir/administrative-gender")], False),
    ("OperationDefinition", [], False),
    (None, [], True),  # GET [base], [base]/_history, [base]/$export without _type
    (None, [("_type", "Patient,ValueSet")], True),
    ("List", [("_include", "List:item")], False),  # List.item can point at a ValueSet
    ("Patient", [("_has:StructureDefinition:x:y", "z")], False),
    ("Patient", [("_include:iterate", "ValueSet:codesystem")], False),
    ("Provenance", [("target:ValueSet.url", "http://x")], False),
    ("Provenance", [("target.url", "http://x")], False),  # Provenance.target: any type
    (None, [("_include", "*")], False),
])
def test_requests_that_can_reach_shipped_types_are_held(resource_type, params, every_type):
    assert GATE.touches(resource_type, params, every_type=every_type)


@pytest.mark.parametrize(("resource_type", "params", "every_type"), [
    ("Patient", [], False),
    ("Observation", [("code", "http://loinc.org|29463-7"), ("_include", "Observation:subject")],
     False),
    (None, [("_type", "Patient,Observation")], True),
    ("Patient", [("_revinclude", "Provenance:target")], False),  # returns Provenances
    ("Observation", [("subject:Patient.name", "x"), ("code:text", "weight")], False),
    ("Patient", [("_has:Observation:patient:code", "1234")], False),
    ("Patient", [("_include", "*")], False),
    (None, [], False),  # a compartment's every type (Patient/1/*)
])
def test_requests_on_other_types_pass(resource_type, params, every_type):
    assert not GATE.touches(resource_type, params, every_type=every_type)


def _bundle(*entries: dict) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


@pytest.mark.parametrize("bundle", [
    _bundle({"request": {"method": "POST", "url": "Patient"},
             "resource": {"resourceType": "Patient"}},
            {"request": {"method": "PUT", "url": "CodeSystem/abstract-types"},
             "resource": {"resourceType": "CodeSystem"}}),
    _bundle({"request": {"method": "DELETE", "url": "ValueSet?url=http://x"}}),
    _bundle({"request": {"method": "GET", "url": "?_type=ConceptMap"}}),
    _bundle({"request": {"method": "GET", "url": "Observation?_include=Observation:x"}},
            {"request": {"method": "POST", "url": "x"},
             "resource": {"resourceType": "StructureDefinition"}}),
])
async def test_a_bundle_with_an_entry_of_a_shipped_type_is_held(bundle):
    with pytest.raises(ServiceUnavailable) as refused:
        await GATE.admit_bundle(bundle)
    assert refused.value.headers["Retry-After"].isdigit()


async def test_a_bundle_of_other_types_passes():
    await GATE.admit_bundle(_bundle(
        {"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Patient"}},
        {"request": {"method": "GET", "url": "Observation?subject=Patient/1"}},
        {"request": {"method": "DELETE", "url": "Encounter/2"}}))
