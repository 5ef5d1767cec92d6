"""UCUM units of growth measurements and their conversion to kg, cm and kg/m2.

Units are UCUM case-sensitive codes (https://ucum.org/ucum), the codes FHIR ``Quantity.code``
carries with ``system = http://unitsofmeasure.org``.
"""

from __future__ import annotations

from .errors import UnitMismatchError

__all__ = ["to_kilograms", "to_centimetres", "to_body_mass_index"]

_KILOGRAMS_PER_UNIT = {"kg": 1.0, "g": 0.001, "[lb_av]": 0.45359237}
_CENTIMETRES_PER_UNIT = {"cm": 1.0, "mm": 0.1, "m": 100.0, "[in_i]": 2.54}
_BODY_MASS_INDEX_UNITS = {"kg/m2"}


def _convert(value: float, unit: str, factors: dict[str, float], quantity: str) -> float:
    factor = factors.get(unit)
    if factor is None:
        allowed = ", ".join(sorted(factors))
        raise UnitMismatchError(f"unit {unit!r} is not a unit of {quantity} (use one of {allowed})")
    return value * factor


def to_kilograms(value: float, unit: str) -> float:
    """A mass in ``g``, ``kg`` or ``[lb_av]`` as kilograms; any other unit is refused."""
    return _convert(value, unit, _KILOGRAMS_PER_UNIT, "mass")


def to_centimetres(value: float, unit: str) -> float:
    """A length in ``mm``, ``cm``, ``m`` or ``[in_i]`` as centimetres; any other unit is refused."""
    return _convert(value, unit, _CENTIMETRES_PER_UNIT, "length")


def to_body_mass_index(value: float, unit: str) -> float:
    """A body mass index, which must be in ``kg/m2``."""
    return _convert(value, unit, dict.fromkeys(_BODY_MASS_INDEX_UNITS, 1.0), "body mass index")
