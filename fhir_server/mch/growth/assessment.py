"""Assess a child's growth measurements: every indicator each measurement yields.

A weight yields weight-for-age and, with a length/height measured the same day,
weight-for-length (WHO 2006, under 731 days) or weight-for-height (731 days and over) and,
when no BMI was measured that day, BMI-for-age of the weight over the squared length/height.
A length/height yields length/height-for-age, a head circumference head
circumference-for-age, a BMI BMI-for-age, a mid-upper arm circumference arm
circumference-for-age (91-1856 days). Weight-for-length covers 45-110 cm and
weight-for-height 65-120 cm (the WHO tables). Which standard applies at which age: ``ages``.

WHO's length/height rule (WHO Anthro, ``adjust_lenhei``): under 731 days the tables are
length-based, so a standing height gets 0.7 cm added; from 731 days they are height-based, so
a recumbent length loses 0.7 cm. A standing height before 9 months is taken as implausible
and not adjusted (flag ``standing-under-9-months``). The WHO 2007 reference (5-19 years)
takes height as measured.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from .ages import (
    DAYS_PER_MONTH,
    WHO_2006_LAST_DAY,
    AgeAtMeasurement,
    age_at_measurement,
    check_gestational_age,
)
from .classification import Classification
from .errors import GrowthInputError
from .indicators import (
    INTERGROWTH_NEWBORN_SIZE,
    INTERGROWTH_PRETERM_POSTNATAL,
    WHO_2006,
    WHO_2007,
    rule,
)
from .measurements import Measurement, calendar_day, standard_value
from .scoring import score

__all__ = ["IndicatorResult", "assess"]

_SEXES = ("male", "female")
_LENGTH_BASED_BEFORE_DAYS = 731
_LENGTH_HEIGHT_ADJUSTMENT_CM = 0.7
_STANDING_PLAUSIBLE_FROM_MONTHS = 9
_NEWBORN_SIZE_INDICATORS = {
    "weight": "ig-nbs-wfga",
    "length": "ig-nbs-lfga",
    "height": "ig-nbs-lfga",
    "head-circumference": "ig-nbs-hcfga",
}
_PRETERM_POSTNATAL_INDICATORS = {
    "weight": "ig-png-wfa",
    "length": "ig-png-lfa",
    "height": "ig-png-lfa",
    "head-circumference": "ig-png-hcfa",
}


@dataclass(frozen=True)
class IndicatorResult:
    """One indicator of one measurement.

    ``z_score`` is rounded to two decimals; ``percentile`` (0-100) is the normal distribution
    function of the unrounded z-score, rounded to one decimal. ``classification`` is None when
    normal. ``flags`` may hold ``biologically-implausible`` (WHO's cut-offs) and
    ``standing-under-9-months``. ``value`` is what was scored: kg, cm after WHO's 0.7 cm
    adjustment, or kg/m2. ``paired_with`` is the length/height a weight-for-length/height or
    a BMI computed from the weight used. ``age_days`` is the chronological age;
    ``corrected_age_days`` is set when a preterm child was scored at corrected age,
    ``postmenstrual_age_days`` when scored by the INTERGROWTH-21st preterm standards.
    """

    measurement: Measurement
    indicator: str
    standard: str
    z_score: float
    percentile: float
    classification: Classification | None
    flags: tuple[str, ...]
    value: float
    age_days: int
    corrected_age_days: int | None = None
    postmenstrual_age_days: int | None = None
    paired_with: Measurement | None = None


@dataclass(frozen=True)
class _Reading:
    measurement: Measurement
    value: float
    day: date


@dataclass(frozen=True)
class _Stature:
    """A length/height as the WHO tables want it at a given age."""

    reading: _Reading
    centimetres: float
    flags: tuple[str, ...]


def assess(
    sex: str,
    birth_date: date,
    measurements: Iterable[Measurement],
    gestational_age_at_birth_days: int | None = None,
) -> list[IndicatorResult]:
    """Every indicator of every measurement, in the order of ``measurements``.

    ``sex`` is ``male`` or ``female`` (the standards are sex-specific). A measurement outside
    every table (too old, a length out of range) yields nothing. Raises ``GrowthInputError``
    (``UnitMismatchError`` for units) for input that cannot be assessed.
    """
    if sex not in _SEXES:
        raise GrowthInputError(f"the growth standards need sex male or female, not {sex!r}")
    check_gestational_age(gestational_age_at_birth_days)
    birth_day = calendar_day(birth_date)
    readings = [
        _Reading(measurement, standard_value(measurement), calendar_day(measurement.date))
        for measurement in measurements
    ]
    statures: dict[date, _Reading] = {}
    measured_bmi_days = set()
    for reading in readings:
        if reading.measurement.kind in ("length", "height"):
            statures.setdefault(reading.day, reading)
        elif reading.measurement.kind == "bmi":
            measured_bmi_days.add(reading.day)
    results: list[IndicatorResult] = []
    for reading in readings:
        age = age_at_measurement(birth_day, reading.day, gestational_age_at_birth_days)
        context = _Context(sex, age, reading)
        results.extend(context.intergrowth())
        if age.who_age_days is not None:
            paired = statures.get(reading.day)
            compute_bmi = reading.day not in measured_bmi_days
            results.extend(context.who(age.who_age_days, paired, compute_bmi))
    return results


@dataclass(frozen=True)
class _Context:
    sex: str
    age: AgeAtMeasurement
    reading: _Reading

    def intergrowth(self) -> Iterator[IndicatorResult]:
        kind = self.reading.measurement.kind
        if self.age.newborn_size and kind in _NEWBORN_SIZE_INDICATORS:
            yield from self._result(
                INTERGROWTH_NEWBORN_SIZE,
                _NEWBORN_SIZE_INDICATORS[kind],
                self.age.gestational_age_days,
                self.reading.value,
            )
        postmenstrual = self.age.postmenstrual_age_days
        if postmenstrual is not None and kind in _PRETERM_POSTNATAL_INDICATORS:
            yield from self._result(
                INTERGROWTH_PRETERM_POSTNATAL,
                _PRETERM_POSTNATAL_INDICATORS[kind],
                postmenstrual,
                self.reading.value,
            )

    def who(
        self, age_days: int, paired: _Reading | None, compute_bmi: bool
    ) -> Iterator[IndicatorResult]:
        kind = self.reading.measurement.kind
        if kind == "weight":
            yield from self._for_age("wfa", age_days, self.reading.value)
            if paired is not None:
                stature = _stature(paired, age_days)
                yield from self._weight_for_stature(age_days, stature, compute_bmi)
        elif kind in ("length", "height"):
            stature = _stature(self.reading, age_days)
            yield from self._for_age("lhfa", age_days, stature.centimetres, stature.flags)
        elif kind == "bmi":
            yield from self._for_age("bfa", age_days, self.reading.value)
        elif kind == "head-circumference" and age_days <= WHO_2006_LAST_DAY:
            yield from self._result(WHO_2006, "hcfa", age_days, self.reading.value)
        elif kind == "muac" and age_days <= WHO_2006_LAST_DAY:
            yield from self._result(WHO_2006, "acfa", age_days, self.reading.value)

    def _weight_for_stature(
        self, age_days: int, stature: _Stature, compute_bmi: bool
    ) -> Iterator[IndicatorResult]:
        weight, length = self.reading.value, stature.centimetres
        pair = (stature.flags, stature.reading.measurement)
        if age_days <= WHO_2006_LAST_DAY:
            indicator = "wfl" if age_days < _LENGTH_BASED_BEFORE_DAYS else "wfh"
            yield from self._result(WHO_2006, indicator, length, weight, *pair)
        if compute_bmi:
            yield from self._for_age("bfa", age_days, weight / (length / 100) ** 2, *pair)

    def _for_age(
        self,
        indicator: str,
        age_days: int,
        value: float,
        flags: tuple[str, ...] = (),
        paired_with: Measurement | None = None,
    ) -> Iterator[IndicatorResult]:
        if age_days <= WHO_2006_LAST_DAY:
            yield from self._result(WHO_2006, indicator, age_days, value, flags, paired_with)
        else:
            months = age_days / DAYS_PER_MONTH
            yield from self._result(WHO_2007, indicator, months, value, flags, paired_with)

    def _result(
        self,
        standard: str,
        indicator: str,
        x: float | None,
        value: float,
        flags: tuple[str, ...] = (),
        paired_with: Measurement | None = None,
    ) -> Iterator[IndicatorResult]:
        scored = None if x is None else score(rule(standard, indicator), self.sex, x, value)
        if scored is None:
            return
        if scored.implausible:
            flags = ("biologically-implausible", *flags)
        yield IndicatorResult(
            measurement=self.reading.measurement,
            indicator=indicator,
            standard=standard,
            z_score=scored.z_score,
            percentile=scored.percentile,
            classification=scored.classification,
            flags=flags,
            value=value,
            age_days=self.age.age_days,
            corrected_age_days=self.age.who_age_days if self.age.corrected else None,
            postmenstrual_age_days=(
                self.age.postmenstrual_age_days
                if standard == INTERGROWTH_PRETERM_POSTNATAL
                else None
            ),
            paired_with=paired_with,
        )


def _stature(reading: _Reading, age_days: int) -> _Stature:
    """The length/height as WHO's 2006 tables take it at ``age_days`` (WHO Anthro rules)."""
    position = reading.measurement.position
    centimetres = reading.value
    if age_days > WHO_2006_LAST_DAY or position is None:
        return _Stature(reading, centimetres, ())
    if position == "standing" and age_days / DAYS_PER_MONTH < _STANDING_PLAUSIBLE_FROM_MONTHS:
        return _Stature(reading, centimetres, ("standing-under-9-months",))
    if position == "standing" and age_days < _LENGTH_BASED_BEFORE_DAYS:
        centimetres += _LENGTH_HEIGHT_ADJUSTMENT_CM
    elif position == "lying" and age_days >= _LENGTH_BASED_BEFORE_DAYS:
        centimetres -= _LENGTH_HEIGHT_ADJUSTMENT_CM
    return _Stature(reading, centimetres, ())
