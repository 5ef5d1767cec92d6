"""Patient compartment membership (R4 CompartmentDefinition/patient) and the router's
interaction classification used for scope checks."""

from __future__ import annotations

import pytest

from fhir_server.access.compartment import compartment_paths, referenced_patients
from fhir_server.access.interactions import interaction_of


def test_compartment_paths_come_from_the_definition():
    paths = compartment_paths()
    assert paths["Observation"] == (("subject",), ("performer",))
    assert ("for",) in paths["Task"]
    assert paths["Patient"] == (("link", "other"),)
    assert "Practitioner" not in paths and "Medication" not in paths


@pytest.mark.parametrize("resource, expected", [
    ({"resourceType": "Patient", "id": "p1"}, {"p1"}),
    ({"resourceType": "Patient", "id": "p1",
      "link": [{"other": {"reference": "Patient/p9"}, "type": "seealso"}]}, {"p1", "p9"}),
    ({"resourceType": "Observation", "subject": {"reference": "Patient/p1"},
      "performer": [{"reference": "Practitioner/d"}, {"reference": "Patient/p2"}]},
     {"p1", "p2"}),
    ({"resourceType": "Observation",
      "subject": {"reference": "http://example.org/fhir/Patient/p3/_history/2"}}, {"p3"}),
    ({"resourceType": "Observation",
      "subject": {"reference": "https://elsewhere.org/fhir/Patient/p3"}}, set()),
    ({"resourceType": "Observation", "subject": {"reference": "Patient/p3/_history/1"}},
     {"p3"}),
    ({"resourceType": "Observation", "subject": {"reference": "Group/g1"}}, set()),
    ({"resourceType": "Condition", "subject": {"reference": "Patient/p1"}}, {"p1"}),
    ({"resourceType": "Appointment", "participant": [
        {"actor": {"reference": "Patient/p4"}}, {"actor": {"reference": "Location/l"}}]},
     {"p4"}),
    ({"resourceType": "Encounter", "subject": {"display": "no reference"}}, set()),
    ({"resourceType": "Practitioner", "id": "d"}, set()),
])
def test_referenced_patients(resource, expected):
    assert referenced_patients(resource, "http://example.org/fhir") == expected


@pytest.mark.parametrize("method, path, expected", [
    ("GET", "", ("search", None)),
    ("POST", "", ("transaction", None)),
    ("GET", "metadata", ("capabilities", None)),
    ("GET", "_history", ("history", None)),
    ("GET", "$export", ("operation", None)),
    ("GET", "Patient", ("search", "Patient")),
    ("POST", "Patient", ("create", "Patient")),
    ("PUT", "Patient", ("update", "Patient")),
    ("DELETE", "Patient", ("delete", "Patient")),
    ("PATCH", "Patient", ("patch", "Patient")),
    ("POST", "Patient/_search", ("search", "Patient")),
    ("GET", "Patient/_history", ("history", "Patient")),
    ("GET", "Patient/$match", ("operation", "Patient")),
    ("GET", "Patient/1", ("read", "Patient")),
    ("PUT", "Patient/1", ("update", "Patient")),
    ("PATCH", "Patient/1", ("patch", "Patient")),
    ("DELETE", "Patient/1", ("delete", "Patient")),
    ("GET", "Patient/1/_history", ("history", "Patient")),
    ("GET", "Patient/1/_history/2", ("vread", "Patient")),
    ("GET", "Patient/1/$everything", ("operation", "Patient")),
    ("GET", "Patient/1/Observation", ("search", "Observation")),
    ("GET", "Patient/1/*", ("search", None)),
])
def test_interaction_of(method, path, expected):
    assert interaction_of(method, [s for s in path.split("/") if s]) == expected
