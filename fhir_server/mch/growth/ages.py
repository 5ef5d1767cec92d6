"""Which standard applies to a measurement: chronological, corrected and postmenstrual age.

* Birth-day measurements of a child with a known gestational age of 24+0 to 42+6 weeks
  (168-300 days) are scored by INTERGROWTH-21st newborn size (the very preterm reference
  below 33+0 weeks).
* A preterm child (born before 37+0 weeks, 259 days) is scored after birth by the
  INTERGROWTH-21st postnatal growth standards for preterm infants while its postmenstrual
  age is 27+0 to 64+0 weeks (189-448 days), then by the WHO standards at its corrected age
  (age minus 280 days less the gestational age at birth) until 24 months of chronological
  age, and at chronological age thereafter (the INTERGROWTH-21st guidance, and the usual
  correction until 2 years).
* Everyone else is scored by the WHO standards at chronological age: the 2006 standards up
  to 1856 days (the end of WHO's day tables, 61 months less a day) and the 2007 reference
  from 61 to 228 months (days / 30.4375, as WHO's 2007 macro computes months).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .errors import GrowthInputError

__all__ = [
    "DAYS_PER_MONTH",
    "WHO_2006_LAST_DAY",
    "AgeAtMeasurement",
    "age_at_measurement",
    "check_gestational_age",
]

DAYS_PER_MONTH = 30.4375
WHO_2006_LAST_DAY = 1856
_TERM_DAYS = 280
_PRETERM_BEFORE_DAYS = 259
_CORRECTED_BEFORE_DAYS = 731
_NEWBORN_SIZE_DAYS = (168, 300)
_PRETERM_POSTNATAL_DAYS = (189, 448)
_PLAUSIBLE_GESTATION_DAYS = (140, 322)


@dataclass(frozen=True)
class AgeAtMeasurement:
    """The ages that pick the standards for one measurement day.

    ``newborn_size`` is true when INTERGROWTH-21st newborn size applies;
    ``postmenstrual_age_days`` is set when the preterm postnatal standards apply;
    ``who_age_days`` is the age for the WHO tables (corrected when ``corrected``), None
    when the WHO standards do not apply yet.
    """

    age_days: int
    gestational_age_days: int | None
    newborn_size: bool
    postmenstrual_age_days: int | None
    who_age_days: int | None
    corrected: bool


def check_gestational_age(gestational_age_days: int | None) -> None:
    """Refuse a gestational age at birth outside 20+0 to 46+0 weeks (140-322 days)."""
    if gestational_age_days is None:
        return
    low, high = _PLAUSIBLE_GESTATION_DAYS
    if isinstance(gestational_age_days, bool) or not isinstance(gestational_age_days, int):
        raise GrowthInputError("the gestational age at birth must be a whole number of days")
    if not low <= gestational_age_days <= high:
        raise GrowthInputError(
            f"a gestational age at birth of {gestational_age_days} days is outside "
            f"{low}-{high} days"
        )


def age_at_measurement(
    birth_date: date, day: date, gestational_age_days: int | None
) -> AgeAtMeasurement:
    """The ages of a child born on ``birth_date`` at a measurement taken on ``day``."""
    age_days = (day - birth_date).days
    if age_days < 0:
        raise GrowthInputError(f"a measurement on {day} is before the birth date {birth_date}")
    newborn_size = (
        age_days == 0
        and gestational_age_days is not None
        and _NEWBORN_SIZE_DAYS[0] <= gestational_age_days <= _NEWBORN_SIZE_DAYS[1]
    )
    preterm = gestational_age_days is not None and gestational_age_days < _PRETERM_BEFORE_DAYS
    if not preterm or gestational_age_days is None:
        return AgeAtMeasurement(age_days, gestational_age_days, newborn_size, None, age_days, False)
    postmenstrual = gestational_age_days + age_days
    if age_days == 0 or postmenstrual <= _PRETERM_POSTNATAL_DAYS[1]:
        in_range = age_days > 0 and postmenstrual >= _PRETERM_POSTNATAL_DAYS[0]
        return AgeAtMeasurement(
            age_days,
            gestational_age_days,
            newborn_size,
            postmenstrual if in_range else None,
            None,
            False,
        )
    if age_days >= _CORRECTED_BEFORE_DAYS:
        return AgeAtMeasurement(age_days, gestational_age_days, False, None, age_days, False)
    corrected = age_days - (_TERM_DAYS - gestational_age_days)
    return AgeAtMeasurement(age_days, gestational_age_days, False, None, corrected, True)
