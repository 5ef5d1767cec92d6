"""$match scoring on the labelled pairs (tests/data/identity/pairs.json): precision and
recall floors per grade, and the pairs that must never match.

Floors sit just below the figures measured with the shipped rules (bench/matching.py prints
them); scoring is deterministic, so a drop means a rule change made matching worse.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bench.matching import evaluate, load_pairs, precision_recall
from fhir_server.identity import default_rules

DATA = Path(__file__).parents[1] / "data" / "identity"


@pytest.fixture(scope="module")
def graded() -> list[tuple[dict, str, float]]:
    return evaluate(load_pairs(DATA / "pairs.json"), default_rules())


def test_the_set_is_large_and_labelled(graded) -> None:
    labels = [pair["label"] for pair, _, _ in graded]
    assert len(labels) >= 200
    assert labels.count("match") >= 100 and labels.count("non-match") >= 100


@pytest.mark.parametrize(("best", "precision_floor", "recall_floor"), [
    (1, 0.99, 0.50),   # certain: measured 1.000 / 0.506
    (2, 0.97, 0.97),   # certain or probable: measured 0.975 / 0.980
    (3, 0.89, 0.99),   # certain, probable or possible: measured 0.900 / 1.000
])
def test_precision_and_recall_floors(graded, best: int, precision_floor: float,
                                     recall_floor: float) -> None:
    _, precision, recall = precision_recall(graded, best)
    assert precision >= precision_floor
    assert recall >= recall_floor


@pytest.mark.parametrize("kind", ["twin", "twin-without-identifier"])
def test_twins_are_never_certain_nor_probable(graded, kind: str) -> None:
    grades = [grade for pair, grade, _ in graded if pair["kind"] == kind]
    assert grades and all(g in ("possible", "certainly-not") for g in grades)


@pytest.mark.parametrize("kind", ["mother-child", "mother-child-unlinked", "spouse",
                                  "random", "namesake"])
def test_family_members_and_strangers_do_not_match(graded, kind: str) -> None:
    grades = [grade for pair, grade, _ in graded if pair["kind"] == kind]
    assert grades and all(g == "certainly-not" for g in grades)


def test_linked_mother_and_child_are_vetoed(graded) -> None:
    from fhir_server.identity import score_candidate

    pairs = [pair for pair, _, _ in graded if pair["kind"] == "mother-child"]
    assert all("mother-and-child" in score_candidate(p["patient"], p["candidate"]).limits
               for p in pairs)


def test_committed_pairs_are_what_the_generator_makes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_pairs", DATA / "make_pairs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path / "pairs.json")
    assert (tmp_path / "pairs.json").read_text() == (DATA / "pairs.json").read_text()
