"""The project's MCH profiles fix codes by ``system`` and ``code`` only (a client's own
display text, or none, is fine), name the code the client sent when it is the wrong one,
and make a growth measurement's unit fit what was measured (mch-growth-1..3: UCUM mass
units for weight, length units for length/height and head circumference, kg/m2 for BMI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "data" / "profiles" / "mch"
VALID = sorted(EXAMPLES.glob("*-valid.json"))
FHIR_JSON = {"Content-Type": "application/fhir+json"}
UCUM = "http://unitsofmeasure.org"


def _load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def _errors(validator, resource):
    return [(i.expression[0], i.diagnostics) for i in validator.validate(resource)
            if i.severity in ("error", "fatal")]


def _codings(value):
    """Every Coding-like object (system and code) anywhere in ``value``."""
    if isinstance(value, dict):
        if "system" in value and "code" in value:
            yield value
        for item in value.values():
            yield from _codings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _codings(item)


@pytest.mark.parametrize("display", [None, "Something the client calls it"],
                         ids=["no-display", "other-display"])
@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_a_code_is_matched_by_system_and_code_whatever_its_display(validator, path, display):
    resource = json.loads(path.read_text())
    for coding in _codings(resource):
        if display is None:
            coding.pop("display", None)
        elif "display" in coding or coding.get("system") == "http://loinc.org":
            coding["display"] = display
    assert _errors(validator, resource) == []


def test_a_wrong_code_is_named_in_the_message(validator):
    resource = _load("pregnancy-status-invalid-code.json")
    [(location, message)] = _errors(validator, resource)
    assert location == "Observation.code"
    assert "http://loinc.org#11449-6" in message  # what the client sent
    assert "pattern http://loinc.org#82810-3" in message  # what the profile wants


def _growth(loinc: str, value: float, unit: str) -> dict:
    resource = _load("pediatric-growth-valid.json")
    resource["code"] = {"coding": [{"system": "http://loinc.org", "code": loinc}]}
    resource["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    return resource


WEIGHT, HEIGHT, LENGTH, HEAD, BMI = "29463-7", "8302-2", "8306-3", "9843-4", "39156-5"
FITTING = [(WEIGHT, 7.9, "kg"), (WEIGHT, 7900, "g"), (WEIGHT, 17.4, "[lb_av]"),
           (HEIGHT, 1.02, "m"), (LENGTH, 68, "cm"), (LENGTH, 680, "mm"),
           (HEAD, 17.1, "[in_i]"), (BMI, 16.2, "kg/m2")]
NOT_FITTING = [(WEIGHT, 68, "cm", "mch-growth-1"), (WEIGHT, 7.9, "kg/m2", "mch-growth-1"),
               (LENGTH, 7.9, "kg", "mch-growth-2"), (HEAD, 43, "g", "mch-growth-2"),
               (BMI, 16.2, "kg", "mch-growth-3"), (BMI, 16.2, "cm", "mch-growth-3")]


@pytest.mark.parametrize(("loinc", "value", "unit"), FITTING,
                         ids=[f"{c}-{u}" for c, _, u in FITTING])
def test_a_unit_that_fits_the_measurement_is_accepted(validator, loinc, value, unit):
    assert _errors(validator, _growth(loinc, value, unit)) == []


@pytest.mark.parametrize(("loinc", "value", "unit", "key"), NOT_FITTING,
                         ids=[f"{c}-{u}" for c, _, u, _ in NOT_FITTING])
def test_a_unit_that_does_not_fit_the_measurement_is_refused(validator, loinc, value, unit,
                                                              key):
    [(location, message)] = _errors(validator, _growth(loinc, value, unit))
    assert location == "Observation" and key in message


def test_a_measurement_without_a_value_needs_no_unit(validator):
    resource = _growth(WEIGHT, 1, "kg")
    del resource["valueQuantity"]
    resource["dataAbsentReason"] = {"text": "the scale was broken"}
    assert _errors(validator, resource) == []


async def test_a_weight_in_centimetres_is_refused_on_write(client, db):
    response = await client.post("Observation", json=_growth(WEIGHT, 68, "cm"),
                                 headers=FHIR_JSON)
    assert response.status_code == 400
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["Observation"] and "mch-growth-1" in issue["diagnostics"]
    assert await db["Observation"].count_documents({}) == 0
    fitting = await client.post("Observation", json=_growth(WEIGHT, 7.9, "kg"),
                                headers=FHIR_JSON)
    assert fitting.status_code == 201, fitting.text

