"""Scoring a candidate Patient against the Patient given to ``$match``.

https://hl7.org/fhir/R4/patient-operation-match.html: each returned entry carries
``search.score`` (0..1) and the ``match-grade`` extension
(http://hl7.org/fhir/StructureDefinition/match-grade) with a code of
http://terminology.hl7.org/CodeSystem/match-grade. :func:`score_candidate` computes both
from the rules (:mod:`.rules`); storage, access control and the Bundle are the caller's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .features import compare_features
from .mothers import mother_identifiers
from .rules import MatchRules, default_rules

__all__ = ["MATCH_GRADE_EXTENSION", "MATCH_GRADE_SYSTEM", "MatchResult", "score_candidate",
           "rank_candidates"]

MATCH_GRADE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/match-grade"
MATCH_GRADE_SYSTEM = "http://terminology.hl7.org/CodeSystem/match-grade"


@dataclass(frozen=True)
class MatchResult:
    """How a candidate compares: score, grade, and the evidence behind them."""

    score: float
    grade: str
    weight: float
    levels: Mapping[str, str]
    weights: Mapping[str, float]
    limits: tuple[str, ...]

    def extension(self) -> dict[str, str]:
        """The ``match-grade`` extension for ``Bundle.entry.search.extension``."""
        return {"url": MATCH_GRADE_EXTENSION, "valueCode": self.grade}


def score_candidate(patient: Mapping[str, Any], candidate: Mapping[str, Any], *,
                    rules: MatchRules | None = None,
                    patient_mothers: Iterable[Mapping[str, Any]] = (),
                    candidate_mothers: Iterable[Mapping[str, Any]] = ()) -> MatchResult:
    """Score ``candidate`` (a stored Patient) against ``patient`` (the ``$match`` input).

    ``patient_mothers``/``candidate_mothers`` are RelatedPersons of each (see
    :mod:`.mothers`); mothers contained in the Patients are found without them.
    """
    rules = rules or default_rules()
    levels = compare_features(patient, candidate,
                              mother_identifiers(patient, patient_mothers),
                              mother_identifiers(candidate, candidate_mothers))
    weights = {f: w for f, level in levels.items() if (w := rules.weight(f, level))}
    total = sum(weights.values())
    score = rules.score(total)
    grade, limits = rules.grade(score, levels)
    return MatchResult(score=round(score, 6), grade=grade, weight=round(total, 3),
                       levels=levels, weights={f: round(w, 3) for f, w in weights.items()},
                       limits=limits)


def rank_candidates(patient: Mapping[str, Any], candidates: Iterable[Mapping[str, Any]], *,
                    rules: MatchRules | None = None,
                    patient_mothers: Iterable[Mapping[str, Any]] = (),
                    candidate_mothers: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
                    ) -> list[tuple[Mapping[str, Any], MatchResult]]:
    """Candidates with their results, best first, ``certainly-not`` ones left out.
    ``candidate_mothers`` maps a candidate's ``id`` to its RelatedPersons."""
    mothers = candidate_mothers or {}
    own_mothers = list(patient_mothers)
    scored = [(c, score_candidate(patient, c, rules=rules, patient_mothers=own_mothers,
                                  candidate_mothers=mothers.get(c.get("id", ""), ())))
              for c in candidates]
    kept = [(c, r) for c, r in scored if r.grade != "certainly-not"]
    return sorted(kept, key=lambda pair: -pair[1].score)
