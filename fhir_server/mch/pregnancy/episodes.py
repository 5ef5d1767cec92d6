"""Telling a patient's pregnancies apart, and finding the one of a given date.

A recorded outcome (delivery, miscarriage, termination, ...) closes a pregnancy: outcomes
within 28 days of each other are the same end (twins, a delivery recorded as Procedure and
Observation). Between two ends, the dating estimates are grouped by the menstrual start
they imply: estimates whose starts lie within 56 days of the first start of a group date
the same pregnancy (a wider gap means a pregnancy ended unrecorded). An estimate recorded
more than 45 weeks after the start it implies (the longest pregnancy the project's profiles
accept, mch-ga-1) cannot be about that pregnancy and is dropped.

Pregnancy Conditions, "pregnant" statuses and first antenatal contacts outside every dated
pregnancy make an undated one (spanning 40 weeks from its first record, or up to its
outcome); an outcome with nothing else recorded is an undated pregnancy of its own.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, replace
from datetime import date, timedelta

from .dating import PREGNANCY_DAYS, Dating, DatingEstimate, choose_dating
from .records import Outcome, PatientRecords

__all__ = ["Pregnancy", "find_pregnancies", "current_pregnancy", "LONGEST_PREGNANCY_DAYS",
           "POSTPARTUM_DAYS"]

LONGEST_PREGNANCY_DAYS = 315  # 45 weeks
POSTPARTUM_DAYS = 42  # WHO: the postnatal period lasts six weeks after the end
_SAME_END_DAYS = 28
_SAME_PREGNANCY_DAYS = 56


@dataclass(frozen=True)
class Pregnancy:
    """One pregnancy: ``first_record`` is its menstrual start when dated, else the date of
    its first record; ``estimates`` those that date it; ``end`` the date of its recorded
    outcome(s)."""

    first_record: date
    dating: Dating | None = None
    estimates: tuple[DatingEstimate, ...] = ()
    end: date | None = None
    outcomes: tuple[Outcome, ...] = ()

    @property
    def start(self) -> date | None:
        return None if self.dating is None else self.dating.start

    @property
    def last_day(self) -> date:
        """The last day a record can belong to this pregnancy."""
        if self.end is not None:
            return self.end
        length = LONGEST_PREGNANCY_DAYS if self.dating is not None else PREGNANCY_DAYS
        return self.first_record + timedelta(days=length)

    def contains(self, day: date) -> bool:
        return self.first_record <= day <= self.last_day

    def current_on(self, day: date) -> bool:
        """Ongoing on ``day``, or ended at most the postnatal period before it."""
        until = self.last_day if self.end is None else self.end + timedelta(days=POSTPARTUM_DAYS)
        return self.first_record <= day <= until


def _groups(items: list, key, gap: int) -> list[list]:
    """Sorted ``items`` cut where an item's key is more than ``gap`` days after the key of
    the first item of its group."""
    groups: list[list] = []
    for item in sorted(items, key=key):
        if groups and (key(item) - key(groups[-1][0])).days <= gap:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _dated(estimates: list[DatingEstimate]) -> list[Pregnancy]:
    pregnancies = []
    for group in _groups(estimates, lambda e: e.start, _SAME_PREGNANCY_DAYS):
        if (dating := choose_dating(group)) is not None:
            pregnancies.append(Pregnancy(dating.start, dating, tuple(group)))
    return pregnancies


def _undated(record_dates: list[date], closing: list[Outcome] | None) -> list[Pregnancy]:
    pregnancies = [Pregnancy(group[0]) for group in
                   _groups(record_dates, lambda d: d, PREGNANCY_DAYS)]
    if closing is not None:
        end = closing[0].date
        if pregnancies and (end - pregnancies[-1].first_record).days <= LONGEST_PREGNANCY_DAYS:
            pregnancies[-1] = replace(pregnancies[-1], end=end, outcomes=tuple(closing))
        else:
            pregnancies.append(Pregnancy(end, end=end, outcomes=tuple(closing)))
    return pregnancies


def find_pregnancies(records: PatientRecords) -> list[Pregnancy]:
    """Every pregnancy in ``records`` (module docstring), oldest first."""
    closings = _groups(list(records.outcomes), lambda o: o.date, _SAME_END_DAYS)
    ends = [closing[0].date for closing in closings]
    segments: list[list[DatingEstimate]] = [[] for _ in range(len(ends) + 1)]
    for estimate in records.estimates:
        if 0 <= (estimate.recorded - estimate.start).days <= LONGEST_PREGNANCY_DAYS:
            segments[bisect_left(ends, estimate.recorded)].append(estimate)
    pregnancies: list[Pregnancy] = []
    for index, estimates in enumerate(segments):
        closing = closings[index] if index < len(closings) else None
        dated = _dated(estimates)
        if closing is not None and dated and 0 <= (
                closing[0].date - dated[-1].first_record).days <= LONGEST_PREGNANCY_DAYS:
            dated[-1] = replace(dated[-1], end=closing[0].date, outcomes=tuple(closing))
            closing = None
        lower = ends[index - 1] if index > 0 else date.min
        upper = ends[index] if index < len(ends) else date.max
        loose = [r.date for r in records.pregnancy_records if lower < r.date <= upper
                 and not any(p.contains(r.date) for p in dated)]
        pregnancies += dated + _undated(loose, closing)
    return sorted(pregnancies, key=lambda p: p.first_record)


def current_pregnancy(pregnancies: list[Pregnancy], day: date) -> Pregnancy | None:
    """The latest pregnancy ongoing on ``day`` or ended within the postnatal period."""
    return max((p for p in pregnancies if p.current_on(day)), key=lambda p: p.first_record,
               default=None)
