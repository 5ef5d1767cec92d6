"""Comparing birth dates (https://hl7.org/fhir/R4/datatypes.html#date: ``YYYY``,
``YYYY-MM`` or ``YYYY-MM-DD``) the ways registrations get them wrong.

Levels, best first:

``exact``            the same full date
``day-month-swap``   day and month exchanged (``1990-03-07`` / ``1990-07-03``)
``year-off-by-one``  the same day and month, years one apart (age given in years)
``one-digit``        one digit of ``YYYYMMDD`` differs (a typing error)
``partial``          one side knows only the year (or year and month) and that part agrees
``estimated``        one side is 1 January, the way an age is recorded as a date, and the
                     years are at most one apart
``different``        anything else
``missing``          either side has no valid birth date
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

__all__ = ["BIRTH_DATE_LEVELS", "parse_birth_date", "compare_birth_dates", "swapped_day_month"]

BIRTH_DATE_LEVELS = ("exact", "day-month-swap", "year-off-by-one", "one-digit", "partial",
                     "estimated", "different", "missing")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_birth_date(value: Any) -> tuple[int, int | None, int | None] | None:
    """(year, month, day) with None for what a partial date leaves out; None if invalid."""
    if not isinstance(value, str):
        return None
    found = _DATE.match(value[:10])
    if not found:
        return None
    year, month, day = (int(p) if p else None for p in found.groups())
    try:
        date(year, month or 1, day or 1)  # type: ignore[arg-type]
    except ValueError:
        return None
    return year, month, day  # type: ignore[return-value]


def swapped_day_month(value: str) -> str | None:
    """The date with day and month exchanged, if that is a different valid date."""
    parsed = parse_birth_date(value)
    if not parsed or parsed[1] is None or parsed[2] is None or parsed[1] == parsed[2]:
        return None
    year, month, day = parsed
    if day > 12:
        return None
    return f"{year:04d}-{day:02d}-{month:02d}"


def _one_digit_apart(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    text_a, text_b = ("{:04d}{:02d}{:02d}".format(*d) for d in (a, b))
    return sum(x != y for x, y in zip(text_a, text_b, strict=True)) == 1


def compare_birth_dates(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """How the two Patients' ``birthDate`` agree: one of :data:`BIRTH_DATE_LEVELS`."""
    pa, pb = parse_birth_date(a.get("birthDate")), parse_birth_date(b.get("birthDate"))
    if pa is None or pb is None:
        return "missing"
    if None in pa or None in pb:
        shared = [(x, y) for x, y in zip(pa, pb, strict=True) if x is not None and y is not None]
        return "partial" if all(x == y for x, y in shared) else "different"
    if pa == pb:
        return "exact"
    (ya, ma, da), (yb, mb, db) = pa, pb
    if ya == yb and (ma, da) == (db, mb):
        return "day-month-swap"
    if (ma, da) == (mb, db) and abs(ya - yb) == 1:
        return "year-off-by-one"
    if _one_digit_apart(pa, pb):  # type: ignore[arg-type]
        return "one-digit"
    if ((ma, da) == (1, 1) or (mb, db) == (1, 1)) and abs(ya - yb) <= 1:
        return "estimated"
    return "different"
