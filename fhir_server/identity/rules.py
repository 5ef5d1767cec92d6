"""Match rules as data: Fellegi-Sunter weights, grade thresholds, caps and vetoes.

Fellegi & Sunter, *A Theory for Record Linkage*, JASA 64 (1969): for each feature level,
``m`` is the probability that a true match lands on it and ``u`` that a non-match does; the
level's weight is ``log2(m / u)`` and a pair's weights add up (features taken as independent)
to the log-likelihood ratio of "same person". Added to the prior log-odds that a candidate
is the person, it gives the posterior probability: the score in 0..1. A level with no entry
(``missing``) weighs 0.

Grades (http://terminology.hl7.org/CodeSystem/match-grade) are score thresholds; a *cap*
lowers the grade to at most the one it names when its ``when`` levels occur (unless its
``unless`` levels do); a *veto* makes the pair ``certainly-not``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .features import FEATURE_LEVELS

__all__ = ["GRADES", "Limit", "MatchRules", "default_rules"]

GRADES = ("certain", "probable", "possible", "certainly-not")


@dataclass(frozen=True)
class Limit:
    """A cap (``at_most`` a grade) or a veto (``at_most`` ``certainly-not``)."""

    name: str
    when: Mapping[str, frozenset[str]]
    unless: Mapping[str, frozenset[str]]
    at_most: str
    why: str

    def applies(self, levels: Mapping[str, str]) -> bool:
        def hit(condition: Mapping[str, frozenset[str]]) -> bool:
            return any(levels.get(feature) in wanted for feature, wanted in condition.items())

        return hit(self.when) and not hit(self.unless)


def _conditions(raw: Any, where: str) -> dict[str, frozenset[str]]:
    conditions = {}
    for feature, levels in (raw or {}).items():
        unknown = set(levels) - set(FEATURE_LEVELS.get(feature, ()))
        if feature not in FEATURE_LEVELS or unknown:
            raise ValueError(f"{where}: unknown feature or levels {feature} {sorted(unknown)}")
        conditions[feature] = frozenset(levels)
    return conditions


def _limit(raw: Mapping[str, Any], at_most: str) -> Limit:
    if at_most not in GRADES:
        raise ValueError(f"rule {raw.get('name')}: unknown grade {at_most!r}")
    return Limit(name=raw["name"], when=_conditions(raw["when"], raw["name"]),
                 unless=_conditions(raw.get("unless"), raw["name"]), at_most=at_most,
                 why=raw.get("why", ""))


@dataclass(frozen=True)
class MatchRules:
    """Loaded, checked match rules."""

    prior_log2_odds: float
    probabilities: Mapping[str, Mapping[str, tuple[float, float]]]
    thresholds: Mapping[str, float]
    caps: tuple[Limit, ...]
    vetoes: tuple[Limit, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MatchRules:
        """Rules from their JSON form (``match_rules.json``); ValueError if unsound."""
        probabilities: dict[str, dict[str, tuple[float, float]]] = {}
        for feature, levels in data["features"].items():
            unknown = set(levels) - set(FEATURE_LEVELS.get(feature, ()))
            if feature not in FEATURE_LEVELS or unknown:
                raise ValueError(f"unknown feature or levels: {feature} {sorted(unknown)}")
            probabilities[feature] = {}
            for level, p in levels.items():
                m, u = float(p["m"]), float(p["u"])
                if not (0 < m <= 1 and 0 < u <= 1):
                    raise ValueError(f"{feature}.{level}: m and u are probabilities in (0, 1]")
                probabilities[feature][level] = (m, u)
        thresholds = {g: float(data["grades"][g]) for g in GRADES[:3]}
        if not 0 < thresholds["possible"] <= thresholds["probable"] <= thresholds["certain"] < 1:
            raise ValueError("grades: 0 < possible <= probable <= certain < 1")
        return cls(prior_log2_odds=float(data["prior_log2_odds"]), probabilities=probabilities,
                   thresholds=thresholds,
                   caps=tuple(_limit(c, c["at_most"]) for c in data.get("caps", [])),
                   vetoes=tuple(_limit(v, "certainly-not") for v in data.get("vetoes", [])))

    @classmethod
    def load(cls, path: str | Path) -> MatchRules:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def weight(self, feature: str, level: str) -> float:
        """log2(m/u) of the level; 0 for a level the rules do not weigh (``missing``)."""
        found = self.probabilities.get(feature, {}).get(level)
        return math.log2(found[0] / found[1]) if found else 0.0

    def score(self, total_weight: float) -> float:
        """The posterior probability of a match given the summed weights."""
        exponent = -(self.prior_log2_odds + total_weight)
        return 0.0 if exponent > 1000 else 1.0 / (1.0 + 2.0 ** exponent)

    def grade(self, score: float, levels: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
        """The match grade of a score and feature levels, and the caps/vetoes that applied."""
        vetoes = tuple(v.name for v in self.vetoes if v.applies(levels))
        if vetoes:
            return "certainly-not", vetoes
        grade = next((g for g in GRADES[:3] if score >= self.thresholds[g]), "certainly-not")
        applied = []
        for cap in self.caps:
            if cap.applies(levels) and GRADES.index(cap.at_most) > GRADES.index(grade):
                grade = cap.at_most
                applied.append(cap.name)
        return grade, tuple(applied)


@lru_cache(maxsize=1)
def default_rules() -> MatchRules:
    """The rules shipped in ``fhir_server/identity/match_rules.json``."""
    text = resources.files(__package__).joinpath("match_rules.json").read_text()
    return MatchRules.from_dict(json.loads(text))
