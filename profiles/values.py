"""Fixed and pattern values (https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.fixed_x_).

A fixed value must be matched exactly; a pattern only in what it says: every element of
the pattern must be present with the same value, and every item of a repeating element
of the pattern must match some item of the instance.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["equals_fixed", "matches_pattern", "describe"]


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _same_primitive(value: Any, expected: Any) -> bool:
    number, wanted = _number(value), _number(expected)
    if number is not None and wanted is not None:
        return number == wanted
    return type(value) is type(expected) and value == expected


def equals_fixed(value: Any, fixed: Any) -> bool:
    """Exact equality, numbers compared by value."""
    if isinstance(fixed, dict):
        return (isinstance(value, dict) and value.keys() == fixed.keys()
                and all(equals_fixed(value[k], fixed[k]) for k in fixed))
    if isinstance(fixed, list):
        return (isinstance(value, list) and len(value) == len(fixed)
                and all(equals_fixed(v, f) for v, f in zip(value, fixed, strict=True)))
    return _same_primitive(value, fixed)


def matches_pattern(value: Any, pattern: Any) -> bool:
    """Whether ``value`` contains everything ``pattern`` says."""
    if isinstance(pattern, dict):
        if isinstance(value, list):
            return any(matches_pattern(item, pattern) for item in value)
        return isinstance(value, dict) and all(
            key in value and matches_pattern(value[key], expected)
            for key, expected in pattern.items())
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value]
        return all(any(matches_pattern(item, wanted) for item in items) for wanted in pattern)
    if isinstance(value, list):
        return any(_same_primitive(item, pattern) for item in value)
    return _same_primitive(value, pattern)


def describe(value: Any) -> str:
    """A short human rendering of a value for messages (codings as ``system#code``, with
    their display when they have one)."""
    if isinstance(value, dict):
        codings = value.get("coding")
        if isinstance(codings, list):
            return ", ".join(describe(c) for c in codings)
        if "code" in value or "system" in value:
            shown = f"{value.get('system', '')}#{value.get('code', '')}"
            display = value.get("display")
            return f"{shown} ('{display}')" if isinstance(display, str) else shown
        return ", ".join(f"{k}={describe(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(describe(v) for v in value)
    return repr(value) if isinstance(value, str) else str(value)
