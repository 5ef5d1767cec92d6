"""The forecast: every series of a schedule evaluated, with its status and next dose.

Dates of the next dose (CDSi "Forecast dates and reasons", with the schedule's data):

* earliest = the later of birth + minimum age and previous valid dose + minimum interval;
* due (recommended) = the later of birth + recommended age and previous valid dose +
  recommended interval, never before the earliest date. A child who starts late therefore
  gets the (accelerated) minimum intervals instead of the infant ages;
* overdue = the later of birth + overdue age (default: recommended age + the schedule's
  overdue window) and due + overdue window;
* latest = the day before birth + maximum age. A dose that cannot be given by then is
  skipped (``after_max_age: skip``) or the series has aged out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from .doses import AdministeredDose, IgnoredImmunization
from .durations import Duration
from .evaluation import SeriesState, evaluate_series
from .model import DueStatus, Forecast, NextDose, SeriesForecast, SeriesStatus
from .schedule import Schedule, Series, TargetDose
from .vaccines import VaccineCatalog, VaccineType

__all__ = ["InvalidForecastRequest", "forecast_schedule"]

_ONE_DAY = timedelta(days=1)


class InvalidForecastRequest(ValueError):
    """A request the forecast cannot answer (a client error)."""


def forecast_schedule(schedule: Schedule, catalog: VaccineCatalog, birth_date: date,
                      doses: Iterable[AdministeredDose], as_of: date,
                      ignored: Iterable[IgnoredImmunization], *, sex: str | None,
                      conditions: Iterable[str]) -> Forecast:
    """Evaluate ``doses`` against every series of ``schedule`` on ``as_of``."""
    if as_of < birth_date:
        raise InvalidForecastRequest(
            f"The assessment date {as_of.isoformat()} is before the birth date "
            f"{birth_date.isoformat()}")
    stated = frozenset(conditions)
    unknown = stated - schedule.conditions.keys()
    if unknown:
        known = ", ".join(sorted(schedule.conditions)) or "none"
        raise InvalidForecastRequest(
            f"Schedule '{schedule.id}' has no condition {', '.join(sorted(unknown))} "
            f"(its conditions: {known})")
    set_aside = list(ignored)
    given: list[AdministeredDose] = []
    for dose in doses:
        if dose.date > as_of:
            set_aside.append(IgnoredImmunization(dose.id, "given after the assessment date"))
        else:
            given.append(dose)
    series = tuple(_series_forecast(s, schedule, catalog, birth_date, given, as_of, sex, stated)
                   for s in schedule.series)
    used = {e.dose for s in series for e in s.doses}
    for dose in given:
        if dose not in used:
            set_aside.append(IgnoredImmunization(
                dose.id, f"no series of schedule '{schedule.id}' uses {dose.vaccine.display}"))
    return Forecast(schedule.id, schedule.title, schedule.source, birth_date, as_of, series,
                    tuple(set_aside), schedule.uses_uip_codes)


def _series_forecast(series: Series, schedule: Schedule, catalog: VaccineCatalog, birth: date,
                     doses: list[AdministeredDose], as_of: date, sex: str | None,
                     conditions: frozenset[str]) -> SeriesForecast:
    state, evaluations = evaluate_series(series, doses, birth, conditions)
    antigen = catalog.antigens[series.antigen]

    def result(status: SeriesStatus, next_dose: NextDose | None = None,
               reason: str | None = None) -> SeriesForecast:
        total = len(state.valid) + (state.remaining(as_of) if status in _OPEN else 0)
        return SeriesForecast(series.id, series.label, antigen, status, tuple(evaluations),
                              total, next_dose, reason)

    if series.sex is not None and sex in _SEXES and sex not in series.sex:
        return result(SeriesStatus.NOT_RECOMMENDED,
                      reason=f"{series.label} is for {' and '.join(sorted(series.sex))} only")
    next_dose = None
    while next_dose is None and (target := state.current(as_of)) is not None:
        next_dose = _next_dose(state, target, schedule, catalog, as_of)
        if next_dose is None:
            if not target.skip_after_max_age:
                return result(SeriesStatus.AGED_OUT, reason=(
                    f"{target.label} can no longer be given: its maximum age is "
                    f"{target.max_age}"))
            state.target += 1
    if next_dose is None:
        return result(SeriesStatus.COMPLETE)
    if series.sex is not None and sex not in _SEXES:
        return result(SeriesStatus.CONDITIONAL, next_dose, reason=(
            f"{series.label} is for {' and '.join(sorted(series.sex))} only; "
            "the child's sex (female or male) was not given"))
    if series.condition is not None and series.condition not in conditions:
        return result(SeriesStatus.CONDITIONAL, next_dose, reason=(
            f"Only where '{series.condition}' applies: "
            f"{schedule.conditions[series.condition]}"))
    status = SeriesStatus.IN_PROGRESS if state.valid else SeriesStatus.NOT_STARTED
    return result(status, next_dose)


_OPEN = (SeriesStatus.NOT_STARTED, SeriesStatus.IN_PROGRESS, SeriesStatus.CONDITIONAL)
_SEXES = ("female", "male")


def _next_dose(state: SeriesState, target: TargetDose, schedule: Schedule,
               catalog: VaccineCatalog, as_of: date) -> NextDose | None:
    """The dates of ``target``, or ``None`` if it can no longer be given in time."""
    latest = state.age(target.max_age) - _ONE_DAY if target.max_age is not None else None
    if latest is not None and as_of > latest:
        return None
    earliest = state.age(target.min_age)
    due = state.age(target.recommended_age)
    if state.valid:
        minimum, recommended = state.intervals(target, as_of)
        previous = state.valid[-1].date
        if minimum is not None:
            earliest = max(earliest, minimum.after(previous))
        if recommended is not None:
            due = max(due, recommended.after(previous))
    due = max(due, earliest)
    window = schedule.overdue_window
    overdue_age = target.overdue_age or _plus(target.recommended_age, window)
    overdue = max(state.age(overdue_age), window.after(due))
    if latest is not None:
        if earliest > latest:
            return None
        due = min(due, latest)
        overdue = min(overdue, latest + _ONE_DAY)
    status = (DueStatus.OVERDUE if as_of >= overdue else
              DueStatus.DUE if as_of >= due else DueStatus.NOT_YET_DUE)
    return NextDose(len(state.valid) + 1, target.label,
                    _vaccines(state, target, catalog, max(due, as_of)), earliest, due, overdue,
                    latest,
                    status)


def _plus(first: Duration, second: Duration) -> Duration:
    return Duration(first.years + second.years, first.months + second.months,
                    first.weeks + second.weeks, first.days + second.days)


def _vaccines(state: SeriesState, target: TargetDose, catalog: VaccineCatalog,
              on: date) -> tuple[VaccineType, ...]:
    """The vaccines the schedule recommends for ``target`` at the child's age on ``on`` (the
    due date, or the assessment date if that is later)."""
    fitting = [choice.vaccine for choice in target.vaccines
               if (choice.from_age is None or on >= state.age(choice.from_age))
               and (choice.before_age is None or on < state.age(choice.before_age))]
    names = fitting or [choice.vaccine for choice in target.vaccines]
    return tuple(catalog.vaccines[name] for name in names)
