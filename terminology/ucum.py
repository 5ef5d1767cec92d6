"""UCUM units (https://ucum.org/ucum): validation and conversion to canonical units.

Backed by ``ucumvert`` (MIT; a Lark grammar generated from the UCUM essence, and a Pint
registry with the UCUM definitions). The parser is built on first use (~0.3 s), the
conversion registry only when a conversion is asked for (~3 s).
https://hl7.org/fhir/R4/datatypes.html#Quantity: a Quantity with ``system``
``http://unitsofmeasure.org`` carries a UCUM code.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from lark.exceptions import LarkError

__all__ = ["UCUM", "is_valid_ucum", "canonical_quantity"]

UCUM = "http://unitsofmeasure.org"
_DIGITS = 12  # significant digits kept after conversion (floating point noise beyond)


@cache
def _parser() -> Any:
    from ucumvert import get_ucum_parser

    return get_ucum_parser()


@cache
def _registry() -> Any:
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()


@lru_cache(maxsize=4096)
def is_valid_ucum(code: str) -> bool:
    """Whether ``code`` is a syntactically valid UCUM expression of known units."""
    if not code or len(code) > 200 or code != code.strip():
        return False
    try:
        _parser().parse(code)
    except LarkError:
        return False
    return True


@lru_cache(maxsize=4096)
def _unit(code: str) -> Any:
    return _registry().from_ucum(code)


def canonical_quantity(value: Decimal | int | float, code: str) -> tuple[Decimal, str] | None:
    """``value`` in ``code`` units converted to base SI units, as ``(value, unit)`` where
    ``unit`` is a stable text for the dimension (``kilogram``, ``meter / second ** 2``);
    None when ``code`` is not valid UCUM or not convertible (arbitrary units,
    annotations only). For quantity search: two quantities compare when their units do.
    """
    if not is_valid_ucum(code):
        return None
    try:
        unit = _unit(code)
        quantity = _registry().Quantity(float(value) * float(unit.magnitude), unit.units)
        base = quantity.to_base_units()
    except Exception:  # noqa: BLE001 - Pint raises many kinds for non-convertible units
        return None
    return Decimal(f"{float(base.magnitude):.{_DIGITS}g}"), str(base.units)
