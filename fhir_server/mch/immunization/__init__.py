"""Immunization forecast: which vaccine doses a child has, and which are due, by schedule.

Pure and storage-neutral: give it the child's birth date, Immunization resources and an
assessment date; it answers with a :class:`Forecast` (per series: status, doses counted and
not counted with the reason, next dose with its earliest, due, overdue and latest dates),
which :func:`immunization_recommendation` turns into the R4 ``ImmunizationRecommendation``
of the ImmDS IG's ``$immds-forecast`` (http://hl7.org/fhir/us/immds/). Schedules are data
(``schedules/*.json``); see ``docs/maternal-child.md``, "Immunization forecast".

    >>> from datetime import date
    >>> result = forecast("india-uip", date(2024, 1, 1), [], date(2024, 2, 12))
    >>> result.get("polio-opv").next_dose.label
    'OPV-1'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cache
from typing import Any

from .catalog import DEFAULT_SCHEDULE, ScheduleCatalog, ScheduleSummary, UnknownSchedule
from .doses import AdministeredDose, IgnoredImmunization, read_immunizations
from .fhir import forecast_parameters, immunization_evaluations, immunization_recommendation
from .forecasting import InvalidForecastRequest, forecast_schedule
from .model import (
    DoseEvaluation,
    DueStatus,
    Forecast,
    NextDose,
    NotCountedReason,
    SeriesForecast,
    SeriesStatus,
)
from .schedule import ScheduleError

__all__ = [
    "schedules",
    "forecast",
    "default_catalog",
    "immunization_recommendation",
    "immunization_evaluations",
    "forecast_parameters",
    "ScheduleCatalog",
    "ScheduleSummary",
    "Forecast",
    "SeriesForecast",
    "SeriesStatus",
    "NextDose",
    "DueStatus",
    "DoseEvaluation",
    "NotCountedReason",
    "AdministeredDose",
    "IgnoredImmunization",
    "UnknownSchedule",
    "InvalidForecastRequest",
    "ScheduleError",
    "DEFAULT_SCHEDULE",
]


@cache
def default_catalog() -> ScheduleCatalog:
    """The deployment's schedules (shipped plus ``FHIR_IMMUNIZATION_SCHEDULES``), read once."""
    return ScheduleCatalog.from_environment()


def schedules(catalog: ScheduleCatalog | None = None) -> list[ScheduleSummary]:
    """The schedules on offer, by id, with their source document."""
    return (catalog or default_catalog()).summaries()


def forecast(schedule_id: str | None, birth_date: date,
             immunizations: Iterable[Mapping[str, Any] | AdministeredDose],
             as_of: date, *, sex: str | None = None, conditions: Iterable[str] = (),
             catalog: ScheduleCatalog | None = None) -> Forecast:
    """The child's forecast on ``as_of`` by schedule ``schedule_id`` (``None``: the
    deployment's default).

    ``immunizations``: R4 Immunization resources (JSON) or :class:`AdministeredDose`;
    ``sex``: ``female``/``male`` (series limited to one sex are ``conditional`` without it);
    ``conditions``: facts a schedule's conditional series or doses need (for ``india-uip``:
    ``je-endemic-district``). Raises :class:`UnknownSchedule` and
    :class:`InvalidForecastRequest` (client errors).
    """
    catalog = catalog or default_catalog()
    schedule = catalog.get(schedule_id)
    doses, ignored = read_immunizations(immunizations, catalog.vaccines)
    return forecast_schedule(schedule, catalog.vaccines, _day(birth_date), doses, _day(as_of),
                             ignored, sex=sex, conditions=conditions)


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value
