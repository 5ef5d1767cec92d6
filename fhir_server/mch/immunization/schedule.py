"""An immunization schedule as data: series of target doses with ages and intervals.

A schedule file (JSON, ``schedules/*.json``) has an ``id``, a ``title``, its ``source``
(document, version, URL) and ``series``. Each series entry names the antigens it protects
against; an entry with several antigens (``["diphtheria", "tetanus"]``) becomes one series
per antigen, as CDC's CDSi logic specification keeps one "antigen series" per target
disease. Each target dose gives its minimum, recommended and overdue ages, an optional
maximum age, the minimum and recommended interval since the previous valid dose, skip
conditions and catch-up overrides. ``docs/maternal-child.md`` describes every key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .durations import Duration
from .vaccines import VaccineCatalog

__all__ = ["Schedule", "Series", "TargetDose", "VaccineChoice", "Condition", "CatchUp",
           "ScheduleSource", "ScheduleError", "parse_schedule"]


class ScheduleError(ValueError):
    """A schedule file that does not follow the format."""


@dataclass(frozen=True)
class ScheduleSource:
    document: str
    version: str
    url: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class VaccineChoice:
    """A vaccine to recommend for a dose, optionally only in an age band."""

    vaccine: str
    from_age: Duration | None = None
    before_age: Duration | None = None


@dataclass(frozen=True)
class Condition:
    """When a skip rule or catch-up override applies; every key given must hold.

    ``age_at_least``: the child's age (at the dose being evaluated, or on the assessment
    date when forecasting); ``previous_dose_age_at_least``: age at the previous valid dose;
    ``first_dose_age_at_least``: age at the first valid dose of the series;
    ``previous_vaccines_all_in``: every valid dose so far was one of these vaccine types.
    """

    age_at_least: Duration | None = None
    previous_dose_age_at_least: Duration | None = None
    first_dose_age_at_least: Duration | None = None
    previous_vaccines_all_in: frozenset[str] | None = None


@dataclass(frozen=True)
class CatchUp:
    """Intervals that replace the dose's own when ``when`` holds (late starters)."""

    when: Condition
    min_interval: Duration | None = None
    recommended_interval: Duration | None = None


@dataclass(frozen=True)
class TargetDose:
    """One dose of a series as the schedule defines it."""

    label: str
    min_age: Duration
    recommended_age: Duration
    overdue_age: Duration | None
    max_age: Duration | None
    skip_after_max_age: bool
    min_interval: Duration | None
    recommended_interval: Duration | None
    grace_days: int
    vaccines: tuple[VaccineChoice, ...]
    condition: str | None = None
    skip_when: tuple[Condition, ...] = ()
    catch_up: tuple[CatchUp, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Series:
    """The doses that protect against one antigen, and which vaccines count for them."""

    id: str
    label: str
    antigen: str
    accepts: frozenset[str]
    doses: tuple[TargetDose, ...]
    condition: str | None = None
    sex: frozenset[str] | None = None
    note: str | None = None


@dataclass(frozen=True)
class Schedule:
    id: str
    title: str
    source: ScheduleSource
    grace_days: int
    overdue_window: Duration
    series: tuple[Series, ...]
    conditions: dict[str, str] = field(default_factory=dict)
    uses_uip_codes: bool = False


_SCHEDULE_KEYS = {"id", "title", "jurisdiction", "source", "grace_days", "overdue_window",
                  "default_min_interval", "conditions", "not_included", "uses_uip_codes",
                  "series"}
_SERIES_KEYS = {"id", "label", "antigens", "accepts", "condition", "sex", "note", "doses"}
_DOSE_KEYS = {"label", "min_age", "recommended_age", "overdue_age", "max_age", "after_max_age",
              "min_interval", "recommended_interval", "grace_days", "vaccines", "only_for",
              "condition", "skip_when", "catch_up", "note"}
_CONDITION_KEYS = {"age_at_least", "previous_dose_age_at_least", "first_dose_age_at_least",
                   "previous_vaccines_all_in"}


def parse_schedule(data: dict[str, Any], catalog: VaccineCatalog) -> Schedule:
    """A :class:`Schedule` from a schedule file's JSON; :class:`ScheduleError` if malformed."""
    try:
        return _Parser(data, catalog).schedule()
    except ScheduleError:
        raise
    except (KeyError, TypeError, ValueError) as error:
        name = data.get("id", "?") if isinstance(data, dict) else "?"
        raise ScheduleError(f"Schedule '{name}': {error}") from error


class _Parser:
    def __init__(self, data: dict[str, Any], catalog: VaccineCatalog) -> None:
        self.data = data
        self.catalog = catalog
        self.where = f"Schedule '{data.get('id', '?')}'"

    def fail(self, message: str) -> ScheduleError:
        return ScheduleError(f"{self.where}: {message}")

    def keys(self, obj: dict[str, Any], allowed: set[str], what: str) -> None:
        if not isinstance(obj, dict):
            raise self.fail(f"{what} must be an object")
        unknown = set(obj) - allowed
        if unknown:
            raise self.fail(f"{what} has unknown keys {sorted(unknown)}")

    def vaccine(self, name: str) -> str:
        if name not in self.catalog.vaccines:
            raise self.fail(f"unknown vaccine type '{name}'")
        return name

    def schedule(self) -> Schedule:
        data = self.data
        self.keys(data, _SCHEDULE_KEYS, "the schedule")
        source = data["source"]
        self.conditions = dict(data.get("conditions", {}))
        self.grace_days = int(data.get("grace_days", 0))
        self.default_interval = Duration.parse(data.get("default_min_interval", "4w"))
        series: list[Series] = []
        for entry in data["series"]:
            series.extend(self.series(entry))
        ids = [s.id for s in series]
        if len(ids) != len(set(ids)):
            raise self.fail("series ids are not unique")
        return Schedule(
            id=data["id"], title=data["title"],
            source=ScheduleSource(source["document"], source["version"], source["url"],
                                  tuple(source.get("notes", ()))),
            grace_days=self.grace_days,
            overdue_window=Duration.parse(data.get("overdue_window", "4w")),
            series=tuple(series), conditions=self.conditions,
            uses_uip_codes=bool(data.get("uses_uip_codes", False)))

    def series(self, entry: dict[str, Any]) -> list[Series]:
        self.keys(entry, _SERIES_KEYS, "a series")
        antigens = entry["antigens"]
        if not antigens or any(a not in self.catalog.antigens for a in antigens):
            raise self.fail(f"series '{entry['id']}' names unknown antigens {antigens}")
        condition = self.condition_name(entry.get("condition"))
        result = []
        for antigen in antigens:
            accepts = entry.get("accepts")
            if accepts is None:
                accepts = [v.id for v in self.catalog.vaccines.values() if antigen in v.antigens]
            accepted = frozenset(self.vaccine(v) for v in accepts)
            if any(antigen not in self.catalog.vaccines[v].antigens for v in accepted):
                raise self.fail(f"series '{entry['id']}' accepts a vaccine without {antigen}")
            doses = tuple(self.dose(d) for d in entry["doses"]
                          if antigen in d.get("only_for", antigens))
            if not doses:
                raise self.fail(f"series '{entry['id']}' has no doses for {antigen}")
            result.append(Series(
                id=entry["id"] if len(antigens) == 1 else f"{entry['id']}.{antigen}",
                label=entry["label"], antigen=antigen, accepts=accepted, doses=doses,
                condition=condition,
                sex=frozenset(entry["sex"]) if "sex" in entry else None,
                note=entry.get("note")))
        return result

    def condition_name(self, name: str | None) -> str | None:
        if name is not None and name not in self.conditions:
            raise self.fail(f"condition '{name}' is not declared in 'conditions'")
        return name

    def dose(self, d: dict[str, Any]) -> TargetDose:
        self.keys(d, _DOSE_KEYS, f"dose '{d.get('label', '?')}'")
        min_age = Duration.parse(d.get("min_age", "0d"))
        after_max_age = d.get("after_max_age", "age-out")
        if after_max_age not in ("age-out", "skip"):
            raise self.fail(f"after_max_age must be 'age-out' or 'skip', not '{after_max_age}'")
        min_interval = _duration(d.get("min_interval"))
        return TargetDose(
            label=d["label"], min_age=min_age,
            recommended_age=_duration(d.get("recommended_age")) or min_age,
            overdue_age=_duration(d.get("overdue_age")),
            max_age=_duration(d.get("max_age")),
            skip_after_max_age=after_max_age == "skip",
            min_interval=min_interval or self.default_interval,
            recommended_interval=_duration(d.get("recommended_interval")),
            grace_days=int(d.get("grace_days", self.grace_days)),
            vaccines=tuple(self.choice(v) for v in d["vaccines"]),
            condition=self.condition_name(d.get("condition")),
            skip_when=tuple(self.when(c) for c in d.get("skip_when", ())),
            catch_up=tuple(self.catch_up(c) for c in d.get("catch_up", ())),
            note=d.get("note"))

    def choice(self, value: str | dict[str, str]) -> VaccineChoice:
        if isinstance(value, str):
            return VaccineChoice(self.vaccine(value))
        self.keys(value, {"vaccine", "from_age", "before_age"}, "a vaccine choice")
        return VaccineChoice(self.vaccine(value["vaccine"]), _duration(value.get("from_age")),
                             _duration(value.get("before_age")))

    def when(self, c: dict[str, Any]) -> Condition:
        self.keys(c, _CONDITION_KEYS, "a condition")
        vaccines = c.get("previous_vaccines_all_in")
        return Condition(
            age_at_least=_duration(c.get("age_at_least")),
            previous_dose_age_at_least=_duration(c.get("previous_dose_age_at_least")),
            first_dose_age_at_least=_duration(c.get("first_dose_age_at_least")),
            previous_vaccines_all_in=(frozenset(self.vaccine(v) for v in vaccines)
                                      if vaccines is not None else None))

    def catch_up(self, c: dict[str, Any]) -> CatchUp:
        self.keys(c, {"when", "min_interval", "recommended_interval"}, "a catch-up rule")
        return CatchUp(self.when(c["when"]), _duration(c.get("min_interval")),
                       _duration(c.get("recommended_interval")))


def _duration(text: str | None) -> Duration | None:
    return Duration.parse(text) if text is not None else None
