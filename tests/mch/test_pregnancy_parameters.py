"""The pregnancy summary as a Parameters resource: the parts of the $pregnancy-summary
contract, valid R4 (checked with the project's validator)."""

from __future__ import annotations

from datetime import date

import pytest

from fhir_server.mch.pregnancy import pregnancy_summary, summary_parameters
from profiles.policy import ProfilePolicy
from profiles.validator import Validator

from .pregnancy_data import blood_pressure, reference, resource, synthea
from .test_pregnancy_scenarios import _bonnie_third

UCUM = "http://unitsofmeasure.org"


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(policy=ProfilePolicy())


def _parts(parameters: dict, name: str) -> list[dict]:
    return [p for p in parameters["parameter"] if p["name"] == name]


def _values(part: dict) -> dict[str, object]:
    """{name: value} of the sub-parts of a part (each name once)."""
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value"))
            for p in part["part"]}


def _assert_valid_r4(validator: Validator, parameters: dict) -> None:
    errors = [i for i in validator.validate(parameters) if i.severity in ("error", "fatal")]
    assert errors == []


def test_dated_pregnancy(validator):
    """Bonnie Marvin's third pregnancy (see test_pregnancy_scenarios) on 2016-01-14, with
    a blood pressure of 150/95 added on 2015-11-12."""
    template = resource(synthea("Bonnie_Marvin"), "a51a7cc7")
    bp = blood_pressure(template, "bonnie-bp", "2015-11-12T10:00:00+00:00", 150, 95)
    resources = _bonnie_third(bp)
    parameters = summary_parameters(pregnancy_summary(resources, date(2016, 1, 14)))
    _assert_valid_r4(validator, parameters)

    [edd] = _parts(parameters, "edd")
    assert edd == {"name": "edd", "valueDate": "2016-03-31"}
    [method] = _parts(parameters, "eddMethod")
    assert method["valueCoding"] == {
        "system": "http://loinc.org", "code": "11779-6",
        "display": "Delivery date Estimated from last menstrual period"}
    [age] = _parts(parameters, "gestationalAge")
    assert age["valueQuantity"] == {"value": 203, "unit": "d", "system": UCUM, "code": "d"}
    assert _parts(parameters, "trimester") == [{"name": "trimester", "valueInteger": 3}]
    assert _parts(parameters, "date") == [{"name": "date", "valueDate": "2016-01-14"}]

    contacts = [_values(part) for part in _parts(parameters, "contact")]
    assert [(c["number"], c["due"], c["status"]) for c in contacts] == [
        (1, "2015-09-17", "done"), (2, "2015-11-12", "done"), (3, "2015-12-24", "overdue"),
        (4, "2016-01-21", "due"), (5, "2016-02-18", "upcoming"), (6, "2016-03-03", "upcoming"),
        (7, "2016-03-17", "upcoming"), (8, "2016-03-31", "upcoming")]
    assert contacts[0]["encounter"] == {"reference": reference(resources, "3bd91560")}
    assert contacts[1]["encounter"] == {"reference": "Encounter/bonnie-visit-20wk"}
    assert contacts[1]["gestationalAge"]["value"] == 140
    assert all("encounter" not in c for c in contacts[2:])
    [next_contact] = _parts(parameters, "nextContact")
    assert _values(next_contact) == {"number": 4, "date": "2016-01-21"}
    assert len(_parts(parameters, "visit")) == 3

    [flag] = _parts(parameters, "flag")
    assert _values(flag) == {"code": "hypertension",
                             "evidence": {"reference": "Observation/bonnie-bp"}}
    assert _parts(parameters, "outcome") == []


def test_undated_pregnancy_with_outcome(validator):
    """Eboni Brekke's miscarriage (see test_pregnancy_scenarios): no dating parts."""
    resources = synthea("Eboni_Brekke")
    parameters = summary_parameters(pregnancy_summary(resources, date(2016, 5, 20)))
    _assert_valid_r4(validator, parameters)
    names = [p["name"] for p in parameters["parameter"]]
    assert names == ["date", "visit", "flag", "outcome"]
    [outcome] = _parts(parameters, "outcome")
    assert _values(outcome) == {
        "code": {"system": "http://snomed.info/sct", "code": "19169002",
                 "display": "Miscarriage in first trimester"},
        "date": "2016-05-09",
        "source": {"reference": reference(resources, "ae3d47fe")}}
