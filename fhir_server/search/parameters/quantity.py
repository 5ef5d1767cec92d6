"""Quantity search parameters: ``[prefix]number|system|code``, UCUM-comparable units.

https://hl7.org/fhir/R4/search.html#quantity — with a unit, values in a convertible UCUM
unit (``g`` and ``kg``, ``mm[Hg]`` and ``kPa``) compare in the canonical unit; other
units match on system and code (``c`` is the code, or the unit text when there is no
code). ``ne`` matches resources none of whose values equals the search value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...errors import InvalidRequest
from ..filters import RANK_RANGE, Condition, Element, none_of
from ..normalize import to_decimal
from ..paths import Node
from ..ucum import UCUM, canonical
from . import IndexContext, split_escaped, unescape
from .number import NumberParameter, NumberValue, number_match, parse_number, range_entry

__all__ = ["QuantityParameter", "QuantityValue"]

_COMPARATOR_OPEN = {"<": "low", "<=": "low", ">": "high", ">=": "high"}


@dataclass(frozen=True)
class QuantityValue:
    number: NumberValue
    system: str | None
    code: str | None


def _quantity(value: dict[str, Any]) -> tuple[Decimal | None, Decimal | None] | None:
    number = to_decimal(value.get("value"))
    if number is None:
        return None
    opening = _COMPARATOR_OPEN.get(value.get("comparator", ""))
    return (None if opening == "low" else number, None if opening == "high" else number)


def _unit(value: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    system = value.get("system") if isinstance(value.get("system"), str) else None
    code = value.get("code") if isinstance(value.get("code"), str) else None
    unit = value.get("unit") if isinstance(value.get("unit"), str) else None
    if code is None and isinstance(value.get("currency"), str):
        system, code = "urn:iso:std:iso:4217", value["currency"]
    return system, code, unit


def _entry(value: Any, kind: str | None) -> dict[str, Any] | None:
    if not isinstance(value, dict) or kind == "SampledData":
        return None
    if kind == "Range" or "low" in value or "high" in value:
        low, high = value.get("low") or {}, value.get("high") or {}
        bounds = (to_decimal(low.get("value")), to_decimal(high.get("value")))
        unit_of = low if low.get("value") is not None else high
    else:
        found = _quantity(value)
        if found is None:
            return None
        bounds, unit_of = found, value
    if bounds == (None, None):
        return None
    entry = range_entry(*bounds)
    system, code, unit = _unit(unit_of)
    entry.update({k: v for k, v in (("s", system), ("c", code or unit), ("u", unit)) if v})
    if system in (UCUM, None) and code:
        converted = [canonical(code, b) if b is not None else None for b in bounds]
        found_unit = next((c[0] for c in converted if c), None)
        if found_unit:
            canonical_range = range_entry(*(c[1] if c else None for c in converted))
            entry.update({"cu": found_unit, "clo": canonical_range["lo"],
                          "chi": canonical_range["hi"]})
    return entry


class QuantityParameter:
    name = "quantity"
    modifiers: frozenset[str] = frozenset()

    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]:
        entries = [e for e in (_entry(n.value, n.type_code) for n in nodes) if e]
        unique = {tuple(sorted((k, str(v)) for k, v in e.items())): e for e in entries}
        return list(unique.values())

    def parse(
        self, text: str, modifier: str | None, parameter: Any, context: IndexContext
    ) -> QuantityValue:
        parts = split_escaped(text, "|")
        if len(parts) not in (1, 3):
            raise InvalidRequest(f"Invalid quantity '{text[:80]}' for {parameter.code}: use "
                                 "[prefix][number] or [prefix][number]|[system]|[code]")
        number = parse_number(parts[0], parameter.code)
        if len(parts) == 1:
            return QuantityValue(number, None, None)
        system, code = unescape(parts[1]) or None, unescape(parts[2]) or None
        return QuantityValue(number, system, code)

    def condition(self, value: QuantityValue, modifier: str | None, path: str) -> Condition:
        code = value.code
        unit = canonical(code, Decimal(1)) if value.system in (UCUM, None) else None
        if unit is not None:
            match, hint = number_match(value.number, "clo", "chi",
                                       lambda number: canonical(code, number)[1])  # type: ignore[index]
            match = {**match, "cu": unit[0]}
        else:
            match, hint = number_match(value.number)
            if value.system is not None:
                match["s"] = value.system
            if value.code is not None:
                match["c"] = value.code
        if value.number.prefix == "ne":
            return none_of(path, match)
        return Element(path, match, hint=hint, rank=RANK_RANGE)

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None:
        return NumberParameter().sort_values(entries)
