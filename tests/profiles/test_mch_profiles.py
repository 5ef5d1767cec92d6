"""The project's maternal and child health profiles (profiles/mch/, docs/profiles.md):
each valid example validates without errors, each invalid one fails with the intended
error at the intended location (tests/data/profiles/mch/expected-errors.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profiles.registry import PROJECT_BASE, DefinitionRegistry

EXAMPLES = Path(__file__).parents[1] / "data" / "profiles" / "mch"
EXPECTED = json.loads((EXAMPLES / "expected-errors.json").read_text())
VALID = sorted(EXAMPLES.glob("*-valid.json"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _errors(validator, resource):
    return [i for i in validator.validate(resource) if i.severity in ("error", "fatal")]


def test_every_profile_has_examples():
    registry = DefinitionRegistry()
    profiles = [url for url in registry.urls() if url.startswith(PROJECT_BASE)
                and registry.get(url)["type"] != "Extension"]
    claimed = {_load(path)["meta"]["profile"][0] for path in VALID}
    assert len(profiles) == 13 and claimed == set(profiles)
    for url in profiles:
        stem = url.rsplit("/", 1)[1].removeprefix("mch-")
        assert any(name.startswith(f"{stem}-invalid-") for name in EXPECTED), stem


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example(validator, path):
    assert _errors(validator, _load(path)) == []


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=lambda n: n.removesuffix(".json"))
def test_invalid_example_fails_with_the_intended_error(validator, name):
    expected = EXPECTED[name]
    errors = _errors(validator, _load(EXAMPLES / name))
    assert any(expected["location"] in issue.expression
               and expected["message"] in issue.diagnostics for issue in errors), errors


# Extensions are checked against their definitions whether or not a profile is claimed.
BROKEN_EXTENSIONS = {"prescription-in-pregnancy-invalid-status-code.json",
                     "prescription-in-pregnancy-invalid-extension-value-type.json"}


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=lambda n: n.removesuffix(".json"))
def test_invalid_example_without_the_claim(validator, name):
    """The invalid examples break only the profile: without the claim they are valid R4,
    except where an extension breaks its own definition."""
    resource = _load(EXAMPLES / name)
    del resource["meta"]
    locations = [issue.expression for issue in _errors(validator, resource)]
    if name in BROKEN_EXTENSIONS:
        assert locations == [(EXPECTED[name]["location"],)]
    else:
        assert locations == []
