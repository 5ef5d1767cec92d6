"""Why a measurement yields no indicator: the ages each standard's tables cover.

``assess`` leaves out a measurement no table covers (a head circumference at 6 years, a
weight at 12, a preterm infant's weight before 27 weeks postmenstrual); ``age_range_gap``
says so in a sentence naming the child's age and the ranges of the standards for that
kind of measurement, read from the tables themselves (``reference_tables``; the WHO 2007
reference holds its last month for one more, as WHO's macros do).
"""

from __future__ import annotations

from datetime import date

from .ages import DAYS_PER_MONTH, WHO_2006_LAST_DAY, age_at_measurement
from .indicators import (
    INDICATORS,
    INTERGROWTH_NEWBORN_SIZE,
    INTERGROWTH_PRETERM_POSTNATAL,
    WHO_2006,
    WHO_2007,
    rule,
)
from .measurements import Measurement, calendar_day
from .reference_tables import reference_table

__all__ = ["age_range_gap"]

_STATURE = ((WHO_2006, "lhfa"), (WHO_2007, "lhfa"), (INTERGROWTH_NEWBORN_SIZE, "ig-nbs-lfga"),
            (INTERGROWTH_PRETERM_POSTNATAL, "ig-png-lfa"))
_INDICATORS_OF_KIND: dict[str, tuple[tuple[str, str], ...]] = {
    "weight": ((WHO_2006, "wfa"), (WHO_2007, "wfa"), (INTERGROWTH_NEWBORN_SIZE, "ig-nbs-wfga"),
               (INTERGROWTH_PRETERM_POSTNATAL, "ig-png-wfa")),
    "length": _STATURE,
    "height": _STATURE,
    "head-circumference": ((WHO_2006, "hcfa"), (INTERGROWTH_NEWBORN_SIZE, "ig-nbs-hcfga"),
                           (INTERGROWTH_PRETERM_POSTNATAL, "ig-png-hcfa")),
    "bmi": ((WHO_2006, "bfa"), (WHO_2007, "bfa")),
    "muac": ((WHO_2006, "acfa"),),
}
_AXES = {WHO_2006: ("days of age", "WHO 2006"), WHO_2007: ("months of age", "WHO 2007"),
         INTERGROWTH_NEWBORN_SIZE: ("days of gestation at birth", "INTERGROWTH-21st"),
         INTERGROWTH_PRETERM_POSTNATAL: ("days postmenstrual", "INTERGROWTH-21st")}
_INTERGROWTH = (INTERGROWTH_NEWBORN_SIZE, INTERGROWTH_PRETERM_POSTNATAL)


def _covered(standard: str, indicator: str, sex: str) -> str:
    found = rule(standard, indicator)
    grid = reference_table(found.table_file, indicator, sex)
    last = grid.x0 + (len(grid.median) - 1) * grid.step
    upper = f"under {last + found.held_beyond_last_row:g}" if found.held_beyond_last_row else (
        f"{last:g}")
    axis, name = _AXES[standard]
    return f"{INDICATORS[indicator].lower()} {grid.x0:g} to {upper} {axis} ({name})"


def age_range_gap(sex: str, birth_date: date, measurement: Measurement,
                  gestational_age_at_birth_days: int | None = None) -> str:
    """Why ``measurement`` of a child of ``sex`` born on ``birth_date`` yields no indicator:
    its age (corrected or postmenstrual where that is what the standards take) and the
    ranges the standards cover for its kind (the INTERGROWTH-21st ones when the gestational
    age at birth is known). Raises ``GrowthInputError`` as ``assess`` does."""
    age = age_at_measurement(calendar_day(birth_date), calendar_day(measurement.date),
                             gestational_age_at_birth_days)
    described = f"{age.age_days} days of age"
    if age.corrected and age.who_age_days is not None:
        described += f" ({age.who_age_days} days corrected for prematurity)"
    elif age.who_age_days is None and gestational_age_at_birth_days is not None:
        described += f" ({gestational_age_at_birth_days + age.age_days} days postmenstrual)"
    elif age.age_days > WHO_2006_LAST_DAY:
        described += f" ({age.age_days / DAYS_PER_MONTH:.1f} months)"
    ranges = [_covered(standard, indicator, sex)
              for standard, indicator in _INDICATORS_OF_KIND.get(measurement.kind, ())
              if gestational_age_at_birth_days is not None or standard not in _INTERGROWTH]
    return (f"outside the age ranges of the growth standards: a {measurement.kind} at "
            f"{described}; they cover {'; '.join(ranges)}")
