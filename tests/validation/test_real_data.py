"""Real resources validate without errors: the Synthea R4 data and the R4 specification
examples (tests/data/validation/SOURCE.md, tests/data/synthea/SOURCE.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_server.json_io import parse_json
from profiles.policy import ProfilePolicy
from profiles.validator import Validator

from .helpers import findings

DATA = Path(__file__).parents[1] / "data"
BUNDLES = sorted((DATA / "synthea" / "bundles").glob("*/*.json"))
NDJSON = sorted((DATA / "synthea" / "bulk-ndjson-10-patients").glob("*.000.ndjson"))
EXAMPLES = sorted((DATA / "validation" / "fhir-r4-core-examples").glob("*.json"))


def _read(path: Path):
    return parse_json(path.read_bytes())


def test_the_data_is_there():
    assert len(BUNDLES) == 13 and len(NDJSON) >= 10 and len(EXAMPLES) == 44


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.stem.split("_")[0])
def test_synthea_transaction_bundle_is_valid(validator, path):
    bundle = _read(path)
    assert len(bundle["entry"]) > 10
    assert findings(validator, bundle) == []


@pytest.mark.parametrize("path", NDJSON, ids=lambda p: p.name.split(".")[0])
def test_synthea_bulk_export_resources_are_valid(path):
    """The bulk data claims US Core profiles, which are not installed here: with unknown
    profiles as warnings, those claims are the only issues."""
    lenient = Validator(policy=ProfilePolicy(unknown_profile="warning"))
    problems, unknown = [], set()
    for line in path.read_bytes().splitlines():
        resource = parse_json(line)
        for issue in lenient.validate(resource):
            if issue.code == "not-supported" and issue.severity == "warning":
                unknown.add(issue.diagnostics.split("'")[1])
            else:
                problems.append((resource["id"], issue))
    assert problems == []
    assert unknown and all(u.startswith("http://hl7.org/fhir/us/core/") for u in unknown)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_r4_specification_example_is_valid(validator, path):
    assert findings(validator, _read(path)) == []


def test_a_broken_copy_of_real_data_is_caught(validator):
    bundle = _read(BUNDLES[0])
    patient = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    patient["birthDate"] = patient["birthDate"].replace("-", "/")
    patient["name"][0]["given"] = patient["name"][0]["given"][0]
    index = bundle["entry"].index(next(e for e in bundle["entry"]
                                       if e["resource"] is patient))
    found = findings(validator, bundle)
    assert sorted(location for location, _, _ in found) == [
        f"Bundle.entry[{index}].resource.birthDate",
        f"Bundle.entry[{index}].resource.name[0].given",
    ]
