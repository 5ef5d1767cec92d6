"""A small UCUM table: common convertible units and their canonical (base) unit.

Quantity search compares values in canonical units when both sides use a unit listed here
(the spec's search page, "quantity": a server SHOULD compare UCUM-convertible units, e.g.
``g`` with ``kg``, ``mm[Hg]`` with ``kPa``). A full UCUM library can replace this table.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["UCUM", "canonical"]

UCUM = "http://unitsofmeasure.org"

_D = Decimal
_UNITS: dict[str, tuple[Decimal, str]] = {
    # mass -> g
    "g": (_D(1), "g"), "kg": (_D(1000), "g"), "mg": (_D("0.001"), "g"),
    "ug": (_D("0.000001"), "g"), "ng": (_D("1e-9"), "g"),
    "[lb_av]": (_D("453.59237"), "g"), "[oz_av]": (_D("28.349523125"), "g"),
    # length -> m
    "m": (_D(1), "m"), "km": (_D(1000), "m"), "cm": (_D("0.01"), "m"), "mm": (_D("0.001"), "m"),
    "um": (_D("0.000001"), "m"), "[in_i]": (_D("0.0254"), "m"), "[ft_i]": (_D("0.3048"), "m"),
    # volume -> L
    "L": (_D(1), "L"), "l": (_D(1), "L"), "dL": (_D("0.1"), "L"), "mL": (_D("0.001"), "L"),
    "uL": (_D("0.000001"), "L"),
    # time -> s
    "s": (_D(1), "s"), "min": (_D(60), "s"), "h": (_D(3600), "s"), "d": (_D(86400), "s"),
    "wk": (_D(604800), "s"), "mo": (_D(2629800), "s"), "a": (_D(31557600), "s"),
    # pressure -> Pa
    "Pa": (_D(1), "Pa"), "kPa": (_D(1000), "Pa"), "mm[Hg]": (_D("133.322387415"), "Pa"),
    "cm[H2O]": (_D("98.0665"), "Pa"),
    # mass concentration -> g/L
    "g/L": (_D(1), "g/L"), "g/dL": (_D(10), "g/L"), "mg/dL": (_D("0.01"), "g/L"),
    "mg/L": (_D("0.001"), "g/L"),
    # rates, ratios
    "/min": (_D(1), "/min"), "{beats}/min": (_D(1), "/min"), "{breaths}/min": (_D(1), "/min"),
    "%": (_D(1), "%"), "kg/m2": (_D(1), "kg/m2"),
}


def canonical(code: str | None, value: Decimal) -> tuple[str, Decimal] | None:
    """(canonical unit, value in it) for a UCUM code in the table, else None."""
    if code is None:
        return None
    entry = _UNITS.get(code)
    if entry is None:
        return None
    factor, unit = entry
    return unit, value * factor
