"""Compatibility with published profiles: the US Core pediatric profiles (BMI-for-age,
weight-for-length, head circumference percentile; 3.1.1 and 6.1.0), the US Core 6.1.0
pregnancy status/intent profiles and the IPS 2.0.0 pregnancy profiles validate their own
published examples without errors, and deliberately broken copies with the error the
profile predicts (tests/data/profiles/SOURCE.md)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from profiles.policy import ProfilePolicy
from profiles.registry import DefinitionRegistry
from profiles.validator import Validator
from terminology import LocalTerminology, shipped_terminology

DATA = Path(__file__).parents[1] / "data" / "profiles"
PACKAGES = ("us-core-3.1.1", "us-core-6.1.0", "ips-2.0.0")


def _package_validator(package: str) -> Validator:
    resources = [json.loads(p.read_text()) for p in (DATA / package).glob("*-*.json")]
    definitions = [r for r in resources if r["resourceType"] == "StructureDefinition"]
    value_sets = [r for r in resources if r["resourceType"] == "ValueSet"]
    return Validator(LocalTerminology(value_sets, base=shipped_terminology()),
                     DefinitionRegistry(definitions), ProfilePolicy())


VALIDATORS = {package: _package_validator(package) for package in PACKAGES}
EXAMPLES = [(package, path) for package in PACKAGES
            for path in sorted((DATA / package / "examples").glob("*.json"))]


def _errors(package: str, resource: dict) -> list:
    return [i for i in VALIDATORS[package].validate(resource) if i.severity == "error"]


def _example(package: str, name: str) -> dict:
    return json.loads((DATA / package / "examples" / f"{name}.json").read_text())


@pytest.mark.parametrize(("package", "path"), EXAMPLES, ids=lambda x: getattr(x, "stem", x))
def test_published_example_is_valid(package, path):
    resource = json.loads(path.read_text())
    assert resource["meta"]["profile"]
    assert _errors(package, resource) == []


def _set(path: list, value) -> Callable[[dict], None]:
    def change(resource: dict) -> None:
        target = resource
        for key in path[:-1]:
            target = target[key]
        if value is None:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


BROKEN = [
    # (package, example, change, location, message fragment)
    ("us-core-3.1.1", "Observation-pediatric-bmi-example",
     _set(["valueQuantity", "code"], "kg/m2"), "Observation.valueQuantity.code", "'%'"),
    ("us-core-3.1.1", "Observation-pediatric-wt-example",
     _set(["code", "coding", 0, "code"], "29463-7"), "Observation.code", "pattern"),
    ("us-core-3.1.1", "Observation-ofc-percentile",
     _set(["valueQuantity", "system"], "http://example.org/units"),
     "Observation.valueQuantity.system", "http://unitsofmeasure.org"),
    ("us-core-6.1.0", "Observation-pediatric-bmi-example",
     _set(["valueQuantity", "value"], None), "Observation.valueQuantity.value", "minimum"),
    ("us-core-6.1.0", "Observation-pediatric-wt-example",
     _set(["category"], [{"text": "Vital Signs"}]), "Observation.category", "VSCat"),
    ("us-core-6.1.0", "Observation-ofc-percentile",
     _set(["code", "coding", 0, "code"], "9843-4"), "Observation.code", "pattern"),
    ("us-core-6.1.0", "Observation-pregnancy-status",
     _set(["effectiveDateTime"], None), "Observation.effective", "minimum required = 1"),
    ("us-core-6.1.0", "Observation-pregnancy-intent",
     _set(["code", "coding", 0, "code"], "82810-3"), "Observation.code", "pattern"),
    ("ips-2.0.0", "Observation-pregnancy-edd-example",
     _set(["code", "coding", 0, "code"], "8665-2"), "Observation.code",
     "http://hl7.org/fhir/uv/ips/ValueSet/edd-method-uv-ips"),
    ("ips-2.0.0", "Observation-pregnancy-outcome-example",
     _set(["code", "coding", 0, "code"], "82810-3"), "Observation.code",
     "http://hl7.org/fhir/uv/ips/ValueSet/pregnancies-summary-uv-ips"),
    ("ips-2.0.0", "Observation-pregnancy-status-example",
     _set(["subject"], None), "Observation.subject", "minimum"),
    ("ips-2.0.0", "Observation-pregnancy-edd-example",
     _set(["referenceRange"], [{"text": "n/a"}]), "Observation.referenceRange", "max allowed = 0"),
]


@pytest.mark.parametrize(("package", "name", "change", "location", "fragment"), BROKEN,
                         ids=[f"{b[0]}:{b[1]}:{b[3]}" for b in BROKEN])
def test_broken_copy_is_invalid(package, name, change, location, fragment):
    resource = copy.deepcopy(_example(package, name))
    change(resource)
    errors = _errors(package, resource)
    assert any(location in issue.expression[0] and fragment in issue.diagnostics
               for issue in errors), errors


def test_the_copies_are_valid_r4_without_their_profiles():
    """The broken copies break the profile, not the base definition."""
    base = Validator(policy=ProfilePolicy())
    for package, name, change, _, _ in BROKEN:
        resource = copy.deepcopy(_example(package, name))
        change(resource)
        del resource["meta"]
        assert [i for i in base.validate(resource) if i.severity == "error"] == [], name
