"""Choosing a pregnancy's estimated due date from the estimates recorded for it.

The rules of ACOG Committee Opinion 700, "Methods for Estimating the Due Date" (2017,
reaffirmed 2022; https://www.acog.org/clinical/clinical-guidance/committee-opinion/articles/
2017/05/methods-for-estimating-the-due-date):

1. A pregnancy from assisted reproduction is dated from the conception (transfer) date.
2. Otherwise the last menstrual period (or a known ovulation date) dates the pregnancy, unless
   the first ultrasound examination differs from it by more than the threshold for the
   gestational age (by LMP) at which that ultrasound was done; then the ultrasound dates it.
3. With only one of the two, that one dates it; with neither, a clinician's estimate does.

Every estimate is reduced to the first day of the last menstrual period it implies
(``start``): the due date is ``start`` + 280 days (Naegele's rule, the basis of every
LOINC "delivery date estimated" method).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

__all__ = ["DatingMethod", "DatingEstimate", "Dating", "PREGNANCY_DAYS", "redating_threshold",
           "choose_dating"]

PREGNANCY_DAYS = 280  # 40 weeks from the first day of the last menstrual period


class DatingMethod(Enum):
    """How an estimate was made, with the LOINC code of a due date made that way."""

    CONCEPTION = ("53692-0", "Delivery date Estimated from conception date")
    LAST_MENSTRUAL_PERIOD = ("11779-6", "Delivery date Estimated from last menstrual period")
    OVULATION = ("11780-4", "Delivery date Estimated from ovulation date")
    ULTRASOUND = ("11781-2", "Delivery date US composite estimate")
    CLINICAL = ("11778-8", "Delivery date Estimated")

    @property
    def loinc(self) -> str:
        return self.value[0]

    @property
    def display(self) -> str:
        return self.value[1]


MENSTRUAL = (DatingMethod.LAST_MENSTRUAL_PERIOD, DatingMethod.OVULATION)


@dataclass(frozen=True)
class DatingEstimate:
    """One recorded estimate: ``recorded`` is when it was made (the ultrasound's date for
    an ultrasound), ``start`` the first day of the last menstrual period it implies."""

    method: DatingMethod
    recorded: date
    start: date
    source: str  # "Observation/<id>"

    @property
    def edd(self) -> date:
        return self.start + timedelta(days=PREGNANCY_DAYS)


@dataclass(frozen=True)
class Dating:
    """The estimate that dates the pregnancy; ``redated`` when an ultrasound replaced the
    menstrual dating."""

    estimate: DatingEstimate
    redated: bool = False

    @property
    def start(self) -> date:
        return self.estimate.start

    @property
    def edd(self) -> date:
        return self.estimate.edd

    @property
    def method(self) -> DatingMethod:
        return self.estimate.method


# (last day of the gestational-age band in days, largest discrepancy in days that keeps the
# menstrual dating): ACOG CO 700, Table 1 "Guidelines for Redating Based on Ultrasonography".
_REDATING_BANDS = (
    (8 * 7 + 6, 5),  # up to 8 6/7 weeks (crown-rump length)
    (13 * 7 + 6, 7),  # 9 0/7 to 13 6/7 weeks (crown-rump length)
    (15 * 7 + 6, 7),  # 14 0/7 to 15 6/7 weeks (biometry)
    (21 * 7 + 6, 10),  # 16 0/7 to 21 6/7 weeks
    (27 * 7 + 6, 14),  # 22 0/7 to 27 6/7 weeks
)
_REDATING_LATE = 21  # 28 0/7 weeks and beyond


def redating_threshold(gestational_age_days: int) -> int:
    """The discrepancy (days) an ultrasound at this gestational age by LMP may show
    without redating the pregnancy; more than this redates it."""
    for last_day, threshold in _REDATING_BANDS:
        if gestational_age_days <= last_day:
            return threshold
    return _REDATING_LATE


def _latest(estimates: list[DatingEstimate]) -> DatingEstimate:
    return max(estimates, key=lambda e: (e.recorded, e.source))


def _first(estimates: list[DatingEstimate]) -> DatingEstimate:
    return min(estimates, key=lambda e: (e.recorded, e.source))


def choose_dating(estimates: list[DatingEstimate]) -> Dating | None:
    """The dating of one pregnancy from its estimates (module docstring), or None when
    there is none. Of several menstrual or clinical estimates the latest recorded counts
    (a correction); of several ultrasounds the first (the earliest is the most accurate)."""
    by_method = {method: [e for e in estimates if e.method is method] for method in DatingMethod}
    if by_method[DatingMethod.CONCEPTION]:
        return Dating(_latest(by_method[DatingMethod.CONCEPTION]))
    menstrual = [e for e in estimates if e.method in MENSTRUAL]
    ultrasounds = by_method[DatingMethod.ULTRASOUND]
    if menstrual and ultrasounds:
        lmp, ultrasound = _latest(menstrual), _first(ultrasounds)
        gestational_age = (ultrasound.recorded - lmp.start).days
        discrepancy = abs((ultrasound.start - lmp.start).days)
        if discrepancy > redating_threshold(gestational_age):
            return Dating(ultrasound, redated=True)
        return Dating(lmp)
    if menstrual:
        return Dating(_latest(menstrual))
    if ultrasounds:
        return Dating(_first(ultrasounds))
    if by_method[DatingMethod.CLINICAL]:
        return Dating(_latest(by_method[DatingMethod.CLINICAL]))
    return None
