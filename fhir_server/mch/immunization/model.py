"""What a forecast says: per series, its status, each dose's evaluation and the next dose.

The shapes follow the two resources HL7's Immunization Decision Support Forecast IG
(http://hl7.org/fhir/us/immds/) returns from ``$immds-forecast``: a dose evaluation is an
``ImmunizationEvaluation`` (counted = ``doseStatus`` valid), a series forecast is one
``ImmunizationRecommendation.recommendation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .doses import AdministeredDose, IgnoredImmunization
from .schedule import ScheduleSource
from .vaccines import Antigen, VaccineType

__all__ = ["SeriesStatus", "DueStatus", "NotCountedReason", "DoseEvaluation", "NextDose",
           "SeriesForecast", "Forecast"]


class SeriesStatus(StrEnum):
    """Where the child stands in a series."""

    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    COMPLETE = "complete"
    AGED_OUT = "aged-out"
    """The next dose can no longer be given: the maximum age has passed."""
    NOT_RECOMMENDED = "not-recommended"
    """The series is not for this child (its ``sex`` restriction)."""
    CONDITIONAL = "conditional"
    """The series depends on a condition the request did not state (e.g. JE endemic)."""


class DueStatus(StrEnum):
    """The next dose on the assessment date."""

    NOT_YET_DUE = "not-yet-due"
    DUE = "due"
    OVERDUE = "overdue"


class NotCountedReason(StrEnum):
    TOO_EARLY = "too-early"
    """Given before the dose's minimum age (less the grace period)."""
    TOO_SOON = "too-soon"
    """Given before the minimum interval since the previous valid dose."""
    TOO_LATE = "too-late"
    """Given at or after the dose's maximum age."""
    DUPLICATE = "duplicate"
    """A second dose of the series on the same day."""
    EXTRA = "extra"
    """Given after the series was complete."""


@dataclass(frozen=True)
class DoseEvaluation:
    """One administered dose judged against one series."""

    dose: AdministeredDose
    counted: bool
    target: str | None
    """The schedule's label of the target dose it was judged against."""
    dose_number: int | None = None
    """Its ordinal among the series' valid doses, when counted."""
    reason: NotCountedReason | None = None
    detail: str | None = None


@dataclass(frozen=True)
class NextDose:
    dose_number: int
    label: str
    vaccines: tuple[VaccineType, ...]
    earliest: date
    """First day a dose counts (minimum age and interval, grace period not included)."""
    due: date
    """Recommended date."""
    overdue: date
    """First day the dose is past due."""
    latest: date | None
    """Last day the dose can be given (the day before the maximum age), if any."""
    status: DueStatus


@dataclass(frozen=True)
class SeriesForecast:
    series_id: str
    label: str
    antigen: Antigen
    status: SeriesStatus
    doses: tuple[DoseEvaluation, ...]
    series_doses: int
    """Valid doses so far plus the doses still to give (skipped doses excluded)."""
    next_dose: NextDose | None
    reason: str | None = None

    @property
    def valid_doses(self) -> tuple[DoseEvaluation, ...]:
        return tuple(d for d in self.doses if d.counted)

    @property
    def invalid_doses(self) -> tuple[DoseEvaluation, ...]:
        return tuple(d for d in self.doses if not d.counted)

    @property
    def overdue(self) -> bool:
        return self.next_dose is not None and self.next_dose.status is DueStatus.OVERDUE


@dataclass(frozen=True)
class Forecast:
    schedule_id: str
    schedule_title: str
    source: ScheduleSource
    birth_date: date
    as_of: date
    series: tuple[SeriesForecast, ...]
    ignored: tuple[IgnoredImmunization, ...]
    uses_uip_codes: bool = False

    def for_antigen(self, antigen: str) -> tuple[SeriesForecast, ...]:
        return tuple(s for s in self.series if s.antigen.id == antigen)

    def get(self, series_id: str) -> SeriesForecast:
        for series in self.series:
            if series.series_id == series_id:
                return series
        raise KeyError(series_id)
