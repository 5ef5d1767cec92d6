"""The delivery and newborn profiles (profiles/mch/: mch-pregnancy-outcome, mch-birth-weight,
mch-gestational-age-at-birth, mch-apgar-score, mch-mother-of-child; docs/maternal-child.md):
the limits of their invariants on both sides, and codes matched on system and code only.
Their valid and invalid examples are checked with the others in test_mch_profiles.py."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "data" / "profiles" / "mch"


def _example(stem: str) -> dict:
    return json.loads((EXAMPLES / f"{stem}-valid.json").read_text())


def _errors(validator, resource) -> list[str]:
    return [issue.diagnostics for issue in validator.validate(resource)
            if issue.severity in ("error", "fatal")]


def _with_quantity(stem: str, value: float, code: str) -> dict:
    resource = _example(stem)
    resource["valueQuantity"].update(value=value, unit=code, code=code)
    return resource


@pytest.mark.parametrize(("value", "code", "valid"), [
    (7000, "g", True), (7001, "g", False), (7, "kg", True), (7.01, "kg", False),
    (15.4, "[lb_av]", True), (15.5, "[lb_av]", False), (0.4, "kg", True), (0, "g", False)])
def test_birth_weight_limits(validator, value, code, valid):
    errors = _errors(validator, _with_quantity("birth-weight", value, code))
    assert errors == [] if valid else any("mch-bw-1" in e for e in errors), errors


@pytest.mark.parametrize(("value", "code", "valid"), [
    (45, "wk", True), (45.5, "wk", False), (315, "d", True), (316, "d", False),
    (22, "wk", True)])
def test_gestational_age_at_birth_limits(validator, value, code, valid):
    errors = _errors(validator, _with_quantity("gestational-age-at-birth", value, code))
    assert errors == [] if valid else any("mch-gab-1" in e for e in errors), errors


@pytest.mark.parametrize(("value", "valid"), [(0, True), (10, True), (-1, False), (9.5, False)])
def test_apgar_score_limits(validator, value, valid):
    resource = _example("apgar-score")
    resource["valueQuantity"]["value"] = value
    errors = _errors(validator, resource)
    assert errors == [] if valid else any("mch-apgar-1" in e for e in errors), errors


@pytest.mark.parametrize("code", ["9272-6", "9274-2", "9271-8"])
def test_apgar_at_each_minute_in_either_unit(validator, code):
    """1, 5 and 10 minutes; the R4 examples' unit {score} and US Core's 1."""
    resource = _example("apgar-score")
    resource["code"] = {"coding": [{"system": "http://loinc.org", "code": code}]}
    resource["valueQuantity"].update(unit="score", code="1")
    assert _errors(validator, resource) == []


@pytest.mark.parametrize(("stem", "path"), [
    ("pregnancy-outcome", "code"), ("birth-weight", "code"),
    ("gestational-age-at-birth", "code")])
def test_codes_match_on_system_and_code_only(validator, stem, path):
    """Another display, or none, does not matter."""
    resource = _example(stem)
    for display in ("Something else entirely", None):
        changed = copy.deepcopy(resource)
        coding = changed[path]["coding"][0]
        coding.pop("display", None)
        if display is not None:
            coding["display"] = display
        assert _errors(validator, changed) == []


@pytest.mark.parametrize("code", ["MTH", "NMTH", "GESTM"])
def test_mother_relationship_codes(validator, code):
    resource = _example("mother-of-child")
    resource["relationship"] = [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N"}]},
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                     "code": code}]}]
    assert _errors(validator, resource) == []
