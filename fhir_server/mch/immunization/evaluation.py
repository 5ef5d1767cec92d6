"""Evaluating administered doses against one series, and finding the next target dose.

The steps follow CDC's CDSi logic specification (Clinical Decision Support for
Immunization, "Evaluate dose administered"), reduced to what WHO and national schedules
state: doses are taken in date order; a target dose that does not apply is skipped (its
condition was not stated, a skip rule holds, or its maximum age has passed and the schedule
says to skip it); the dose is then checked for minimum age, maximum age and minimum
interval since the previous valid dose, each with the schedule's grace period. A valid dose
satisfies the target and the next target becomes current.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from .doses import AdministeredDose
from .durations import Duration
from .model import DoseEvaluation, NotCountedReason
from .schedule import Condition, Series, TargetDose

__all__ = ["SeriesState", "evaluate_series"]


@dataclass
class SeriesState:
    """A series part-way through evaluation: the current target and the valid doses."""

    series: Series
    birth: date
    conditions: frozenset[str]
    target: int = 0
    valid: list[AdministeredDose] = field(default_factory=list)

    def age(self, duration: Duration) -> date:
        """The day the child reaches ``duration`` of age."""
        return duration.after(self.birth)

    def holds(self, condition: Condition, on: date) -> bool:
        """Whether every part of ``condition`` holds on ``on``."""
        previous = self.valid[-1] if self.valid else None
        first = self.valid[0] if self.valid else None
        checks = [
            (condition.age_at_least, lambda d: on >= self.age(d)),
            (condition.previous_dose_age_at_least,
             lambda d: previous is not None and previous.date >= self.age(d)),
            (condition.first_dose_age_at_least,
             lambda d: first is not None and first.date >= self.age(d)),
            (condition.previous_vaccines_all_in,
             lambda v: bool(self.valid) and all(x.vaccine.id in v for x in self.valid)),
        ]
        return all(test(value) for value, test in checks if value is not None)

    def applies(self, dose: TargetDose, on: date) -> bool:
        """Whether ``dose`` is still to be given on ``on`` (not skipped)."""
        if dose.condition is not None and dose.condition not in self.conditions:
            return False
        if any(self.holds(rule, on) for rule in dose.skip_when):
            return False
        return not (dose.skip_after_max_age and dose.max_age is not None
                    and on >= self.age(dose.max_age))

    def current(self, on: date) -> TargetDose | None:
        """The target dose on ``on``, after skipping the ones that no longer apply."""
        doses = self.series.doses
        while self.target < len(doses) and not self.applies(doses[self.target], on):
            self.target += 1
        return doses[self.target] if self.target < len(doses) else None

    def intervals(self, dose: TargetDose, on: date) -> tuple[Duration | None, Duration | None]:
        """Minimum and recommended interval for ``dose``, catch-up overrides applied."""
        minimum, recommended = dose.min_interval, dose.recommended_interval
        for rule in dose.catch_up:
            if self.holds(rule.when, on):
                minimum = rule.min_interval or minimum
                recommended = rule.recommended_interval or recommended
                break
        return minimum, recommended or minimum

    def remaining(self, on: date) -> int:
        """How many target doses from the current one still apply on ``on``."""
        return sum(1 for dose in self.series.doses[self.target:] if self.applies(dose, on))


def evaluate_series(series: Series, doses: Iterable[AdministeredDose], birth: date,
                    conditions: frozenset[str]) -> tuple[SeriesState, list[DoseEvaluation]]:
    """Judge each dose whose vaccine the series accepts, in date order."""
    state = SeriesState(series, birth, conditions)
    evaluations: list[DoseEvaluation] = []
    seen: set[date] = set()
    for dose in sorted((d for d in doses if d.vaccine.id in series.accepts),
                       key=lambda d: d.date):
        if dose.date in seen:
            evaluations.append(DoseEvaluation(
                dose, False, None, reason=NotCountedReason.DUPLICATE,
                detail=f"another {series.label} dose was given the same day"))
            continue
        seen.add(dose.date)
        target = state.current(dose.date)
        if target is None:
            evaluations.append(DoseEvaluation(
                dose, False, None, reason=NotCountedReason.EXTRA,
                detail=f"the {series.label} series was already complete"))
            continue
        problem = _problem(state, target, dose)
        if problem is None:
            state.valid.append(dose)
            state.target += 1
            evaluations.append(DoseEvaluation(dose, True, target.label, len(state.valid)))
        else:
            evaluations.append(DoseEvaluation(dose, False, target.label, reason=problem[0],
                                              detail=problem[1]))
    return state, evaluations


def _problem(state: SeriesState, target: TargetDose, dose: AdministeredDose
             ) -> tuple[NotCountedReason, str] | None:
    """Why ``dose`` does not count as ``target``, or ``None`` if it does."""
    grace = timedelta(days=target.grace_days)
    grace_text = f" less the {target.grace_days}-day grace period" if target.grace_days else ""
    minimum = state.age(target.min_age)
    if dose.date < minimum - grace:
        return (NotCountedReason.TOO_EARLY,
                f"given before the minimum age of {target.min_age} for {target.label} "
                f"({minimum.isoformat()}{grace_text})")
    if target.max_age is not None and dose.date >= state.age(target.max_age):
        return (NotCountedReason.TOO_LATE,
                f"given at or after the maximum age of {target.max_age} for {target.label}")
    if state.valid:
        min_interval, _ = state.intervals(target, dose.date)
        if min_interval is not None:
            earliest = min_interval.after(state.valid[-1].date)
            if dose.date < earliest - grace:
                return (NotCountedReason.TOO_SOON,
                        f"given less than {min_interval} after the previous valid dose "
                        f"({state.valid[-1].date.isoformat()}; {target.label} counts from "
                        f"{earliest.isoformat()}{grace_text})")
    return None
