"""Match rules and scoring: weights, grades, caps and vetoes (fhir_server.identity)."""

from __future__ import annotations

import copy
import json
import math
from importlib import resources

import pytest

from fhir_server.identity import (
    FEATURE_LEVELS,
    MATCH_GRADE_EXTENSION,
    MatchRules,
    default_rules,
    rank_candidates,
    score_candidate,
)

ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
HID = "https://example.org/fhir/sid/health-id"
SUNITA = {"resourceType": "Patient", "id": "a",
          "identifier": [{"system": HID, "value": "91-2345-6789-0123"}],
          "name": [{"given": ["Sunita"], "family": "Sharma"}], "gender": "female",
          "birthDate": "1990-03-07",
          "telecom": [{"system": "phone", "value": "+91 98765 43210"}],
          "address": [{"line": ["H.No 12, Gandhi Nagar"], "city": "Lucknow",
                       "postalCode": "226001"}]}


def _raw_rules() -> dict:
    return json.loads(resources.files("fhir_server.identity").joinpath(
        "match_rules.json").read_text())


def test_shipped_rules_are_sound() -> None:
    rules = default_rules()
    for feature, levels in _raw_rules()["features"].items():
        assert feature in FEATURE_LEVELS
        assert sum(p["m"] for p in levels.values()) <= 1.0 + 1e-9, feature
        assert sum(p["u"] for p in levels.values()) <= 1.0 + 1e-9, feature
    assert rules.weight("given", "exact") == pytest.approx(math.log2(0.7 / 0.01))
    assert rules.weight("given", "missing") == 0.0


@pytest.mark.parametrize("change", [
    lambda r: r["features"].update(unknown={"x": {"m": 0.5, "u": 0.5}}),
    lambda r: r["features"]["given"].update(nonsense={"m": 0.5, "u": 0.5}),
    lambda r: r["features"]["given"]["exact"].update(u=0),
    lambda r: r["grades"].update(possible=0.9999),
    lambda r: r["caps"].append({"name": "x", "at_most": "sure", "when": {"given": ["exact"]}}),
    lambda r: r["vetoes"].append({"name": "x", "when": {"mother": ["unknown"]}}),
])
def test_unsound_rules_are_refused(change) -> None:
    raw = _raw_rules()
    change(raw)
    with pytest.raises(ValueError):
        MatchRules.from_dict(raw)


def test_identical_record_is_certain() -> None:
    result = score_candidate(SUNITA, copy.deepcopy(SUNITA))
    assert result.grade == "certain" and result.score > 0.999
    assert result.extension() == {"url": MATCH_GRADE_EXTENSION, "valueCode": "certain"}
    assert result.levels["identifier"] == "same-system-value"


def test_score_is_the_posterior_of_the_summed_weights() -> None:
    rules = default_rules()
    result = score_candidate(SUNITA, {"resourceType": "Patient", "gender": "female",
                                      "name": [{"given": ["Suneeta"], "family": "Sharma"}]})
    total = rules.weight("given", "variant") + rules.weight("family", "exact") + \
        rules.weight("gender", "same")
    assert result.weight == pytest.approx(total, abs=1e-3)
    assert result.score == pytest.approx(1 / (1 + 2 ** -(rules.prior_log2_odds + total)),
                                         abs=1e-6)


def test_transliterated_record_without_identifier() -> None:
    other = {"resourceType": "Patient", "name": [{"given": ["Suneetha", "Devi"],
                                                  "family": "Sarma"}],
             "gender": "female", "birthDate": "1990-07-03",
             "telecom": [{"system": "phone", "value": "09876543210"}]}
    result = score_candidate(other, SUNITA)
    assert result.levels["birthDate"] == "day-month-swap"
    assert result.grade in ("certain", "probable")


def test_twin_is_capped_below_certain() -> None:
    twin = copy.deepcopy(SUNITA)
    twin.update(identifier=[], name=[{"given": ["Anita"], "family": "Sharma"}])
    result = score_candidate(twin, SUNITA)
    assert result.grade == "possible"
    assert "given-name-differs" in result.limits


def test_birth_order_veto() -> None:
    first, second = copy.deepcopy(SUNITA), copy.deepcopy(SUNITA)
    first["multipleBirthInteger"], second["multipleBirthInteger"] = 1, 2
    result = score_candidate(first, second)
    assert (result.grade, result.limits) == ("certainly-not", ("different-birth-order",))


def test_mother_and_child_veto_with_contained_or_given_related_person() -> None:
    mother_link = {"resourceType": "RelatedPerson", "patient": {"reference": "#"},
                   "relationship": [{"coding": [{"system": ROLE, "code": "MTH"}]}],
                   "identifier": [{"system": HID, "value": "91234567890123"}]}
    child = copy.deepcopy(SUNITA)
    child.update(identifier=[], birthDate="2019-03-07", contained=[mother_link])
    child["name"][0]["given"] = ["Sunita"]  # named after the mother: still not her
    assert score_candidate(child, SUNITA).grade == "certainly-not"
    del child["contained"]
    related = dict(mother_link, patient={"reference": "Patient/child"})
    result = score_candidate(child, SUNITA, patient_mothers=[related])
    assert result.limits == ("mother-and-child",)


def test_certain_needs_an_identifier_for_an_approximate_birth_date() -> None:
    estimated = copy.deepcopy(SUNITA)
    estimated["birthDate"] = "1990-01-01"
    assert score_candidate(estimated, SUNITA).grade == "certain"
    estimated["identifier"] = []
    result = score_candidate(estimated, SUNITA)
    assert (result.grade, result.limits) == ("probable", ("birth-date-unsure",))


def test_rank_candidates_orders_and_drops_certainly_not() -> None:
    stranger = {"resourceType": "Patient", "id": "s", "name": [{"given": ["Imran"],
                                                               "family": "Khan"}],
                "gender": "male", "birthDate": "1970-01-05"}
    probable = copy.deepcopy(SUNITA)
    probable.update(id="p", identifier=[], telecom=[], birthDate="1990")
    ranked = rank_candidates(SUNITA, [stranger, probable, dict(SUNITA, id="c")])
    assert [c["id"] for c, _ in ranked] == ["c", "p"]
    assert [r.grade for _, r in ranked] == ["certain", "probable"]


def test_custom_rules_change_the_grade() -> None:
    raw = _raw_rules()
    raw["grades"] = {"certain": 0.9999999, "probable": 0.99999, "possible": 0.9999}
    strict = MatchRules.from_dict(raw)
    other = copy.deepcopy(SUNITA)
    other["identifier"] = []
    assert score_candidate(other, SUNITA).grade == "certain"
    assert score_candidate(other, SUNITA, rules=strict).grade != "certain"
