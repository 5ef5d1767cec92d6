"""UCUM-comparable quantities: a unit's value in its canonical (base) unit.

Quantity search compares values in canonical units when the unit is UCUM (the spec's
search page, "quantity": ``g`` with ``kg``, ``mm[Hg]`` with ``kPa``). Conversion comes
from ``terminology.ucum``; as every UCUM conversion is affine, each unit's
``(scale, offset)`` is computed once and cached, which keeps index extraction fast.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from terminology.ucum import canonical_quantity

__all__ = ["UCUM", "canonical"]

UCUM = "http://unitsofmeasure.org"


@lru_cache(maxsize=4096)
def _conversion(code: str) -> tuple[Decimal, Decimal, str] | None:
    try:
        zero, one = canonical_quantity(Decimal(0), code), canonical_quantity(Decimal(1), code)
    except Exception:  # a unit the UCUM library cannot read is simply not comparable
        return None
    if zero is None or one is None:
        return None
    return one[0] - zero[0], zero[0], one[1]


def canonical(code: str | None, value: Decimal) -> tuple[str, Decimal] | None:
    """(canonical unit, value in it) for a UCUM code, else None."""
    if not code:
        return None
    conversion = _conversion(code)
    if conversion is None:
        return None
    scale, offset, unit = conversion
    return unit, value * scale + offset
