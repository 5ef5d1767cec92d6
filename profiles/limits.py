"""``minValue[x]``, ``maxValue[x]`` and ``maxLength`` of an ElementDefinition.

https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.minValue_x_.
Numbers compare by value, dates and times as ISO strings of the same precision, Quantities
by value when their units are the same code or convertible UCUM units.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from terminology.ucum import UCUM, canonical_quantity

__all__ = ["limit_problem"]


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    if isinstance(value, str):
        return value
    return None


def _compare(value: Any, limit: Any) -> int | None:
    """-1, 0 or 1 as ``value`` is below, at or above ``limit``; None when incomparable."""
    if isinstance(limit, dict):
        if not isinstance(value, dict):
            return None
        if value.get("code") != limit.get("code"):
            return _compare_ucum(value, limit)
        value, limit = value.get("value"), limit.get("value")
    left, right = _comparable(value), _comparable(limit)
    if left is None or right is None or type(left) is not type(right):
        return None
    if isinstance(left, str) and len(left) != len(right):
        size = min(len(left), len(right))
        left, right = left[:size], right[:size]
    return (left > right) - (left < right)


def _compare_ucum(value: dict[str, Any], limit: dict[str, Any]) -> int | None:
    """Quantities in different UCUM units, compared after conversion to base units."""
    if value.get("system") != UCUM or limit.get("system") != UCUM:
        return None
    converted = [canonical_quantity(q.get("value"), q.get("code"))
                 if isinstance(q.get("value"), int | float | Decimal)
                 and isinstance(q.get("code"), str) else None for q in (value, limit)]
    left, right = converted
    if left is None or right is None or left[1] != right[1]:
        return None
    return (left[0] > right[0]) - (left[0] < right[0])


def _limit(element: dict[str, Any], prefix: str) -> Any:
    for key, value in element.items():
        if key.startswith(prefix) and key != prefix:
            return value
    return None


def limit_problem(element: dict[str, Any], value: Any) -> str | None:
    """Why ``value`` breaks the element's min/max value or max length, or None."""
    minimum = _limit(element, "minValue")
    if minimum is not None and _compare(value, minimum) == -1:
        return f"the value {_shown(value)} is below the minimum {_shown(minimum)}"
    maximum = _limit(element, "maxValue")
    if maximum is not None and _compare(value, maximum) == 1:
        return f"the value {_shown(value)} is above the maximum {_shown(maximum)}"
    max_length = element.get("maxLength")
    if isinstance(max_length, int) and isinstance(value, str) and len(value) > max_length:
        return f"the value is longer than the maximum length {max_length}"
    return None


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('value')} {value.get('code') or value.get('unit') or ''}".strip()
    return str(value)
