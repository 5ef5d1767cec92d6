"""The summary of a patient's pregnancy on a date, from the patient's FHIR resources."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .contacts import AntenatalContact, antenatal_contacts, next_contact
from .dating import DatingMethod
from .episodes import Pregnancy, current_pregnancy, find_pregnancies
from .flags import FIRST_TRIMESTER_DAYS, SECOND_TRIMESTER_DAYS, Flag, pregnancy_flags
from .records import Outcome, PatientRecords, Visit

__all__ = ["PregnancySummary", "pregnancy_summary", "trimester"]


def trimester(gestational_age: int) -> int:
    """1 up to 13 6/7 weeks, 2 from 14 0/7 to 27 6/7 weeks, 3 from 28 0/7 weeks (ACOG)."""
    if gestational_age < FIRST_TRIMESTER_DAYS:
        return 1
    return 2 if gestational_age < SECOND_TRIMESTER_DAYS else 3


@dataclass(frozen=True)
class PregnancySummary:
    """Where the pregnancy of ``date`` stands on that date. Dating, gestational age,
    trimester and contacts are None or empty for an undated pregnancy; after the end of
    the pregnancy the gestational age is the one at its end."""

    date: date
    pregnancy: Pregnancy
    gestational_age: int | None  # days
    contacts: tuple[AntenatalContact, ...]
    next_contact: tuple[int, date] | None
    visits: tuple[Visit, ...]
    flags: tuple[Flag, ...]

    @property
    def edd(self) -> date | None:
        return None if self.pregnancy.dating is None else self.pregnancy.dating.edd

    @property
    def edd_method(self) -> DatingMethod | None:
        return None if self.pregnancy.dating is None else self.pregnancy.dating.method

    @property
    def edd_source(self) -> str | None:
        """The Observation the due date comes from."""
        dating = self.pregnancy.dating
        return None if dating is None else dating.estimate.source

    @property
    def trimester(self) -> int | None:
        return None if self.gestational_age is None else trimester(self.gestational_age)

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        return self.pregnancy.outcomes

    def gestational_age_on(self, day: date) -> int | None:
        """Days since the menstrual start on ``day`` (None for an undated pregnancy)."""
        start = self.pregnancy.start
        return None if start is None else (day - start).days


def pregnancy_summary(resources: Iterable[dict[str, Any]], day: date) -> PregnancySummary | None:
    """The summary of the pregnancy ongoing on ``day`` (or ended at most six weeks before
    it), from what was recorded up to ``day``; None when there is no such pregnancy.

    ``resources`` are one patient's Observations, Encounters, Conditions and Procedures as
    FHIR JSON (others are ignored); the rules are in docs/maternal-child.md."""
    records = PatientRecords.from_resources(resources).until(day)
    pregnancy = current_pregnancy(find_pregnancies(records), day)
    if pregnancy is None:
        return None
    last = day if pregnancy.end is None else pregnancy.end
    visits = sorted((v for v in records.visits if pregnancy.contains(v.date)),
                    key=lambda v: (v.date, v.reference))
    start = pregnancy.start
    gestational_age = None if start is None else (last - start).days
    contacts = [] if start is None else antenatal_contacts(start, visits, day, pregnancy.end)
    flags = pregnancy_flags(pregnancy, records, visits, last, gestational_age)
    return PregnancySummary(day, pregnancy, gestational_age, tuple(contacts),
                            next_contact(contacts, day), tuple(visits), tuple(flags))
