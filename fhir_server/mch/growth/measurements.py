"""A growth measurement as the assessment takes it, and its value in kg, cm or kg/m2."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from .errors import GrowthInputError
from .units import to_body_mass_index, to_centimetres, to_kilograms

__all__ = ["KINDS", "POSITIONS", "Measurement", "standard_value", "calendar_day"]

KINDS = ("weight", "length", "height", "head-circumference", "bmi", "muac")
"""``length`` and ``height`` are both the child's stature; ``position`` tells how it was taken."""

POSITIONS = ("lying", "standing")

_CONVERSIONS = {
    "weight": to_kilograms,
    "length": to_centimetres,
    "height": to_centimetres,
    "head-circumference": to_centimetres,
    "muac": to_centimetres,
    "bmi": to_body_mass_index,
}


@dataclass(frozen=True)
class Measurement:
    """One growth measurement.

    ``kind`` is one of ``KINDS``; ``value`` is in the UCUM ``unit``; ``date`` is the day it was
    taken. ``position`` (``lying`` for recumbent length, ``standing`` for height, None when
    unknown) decides WHO's 0.7 cm length/height adjustment; unknown means taken as WHO
    prescribes for the age. ``source`` identifies the measurement for the caller (for example
    ``Observation/123``) and is returned unchanged.
    """

    kind: str
    value: float | Decimal
    unit: str
    date: date
    position: str | None = None
    source: str | None = None


def calendar_day(moment: date) -> date:
    """The calendar day of a date or datetime."""
    return moment.date() if isinstance(moment, datetime) else moment


def standard_value(measurement: Measurement) -> float:
    """The value in kg (weight), cm (lengths and circumferences) or kg/m2 (BMI).

    Raises ``UnitMismatchError`` for a unit that does not fit the kind and
    ``GrowthInputError`` for an unknown kind or position or a value that is not positive.
    """
    convert = _CONVERSIONS.get(measurement.kind)
    if convert is None:
        raise GrowthInputError(
            f"unknown measurement kind {measurement.kind!r} (use one of {', '.join(KINDS)})"
        )
    if measurement.position is not None and measurement.position not in POSITIONS:
        raise GrowthInputError(
            f"unknown measurement position {measurement.position!r} (use lying or standing)"
        )
    value = float(measurement.value)
    if not math.isfinite(value) or value <= 0:
        raise GrowthInputError(f"a {measurement.kind} must be a positive number, not {value}")
    return convert(value, measurement.unit)
