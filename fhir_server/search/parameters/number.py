"""Number search parameters, with prefixes and the implicit precision of the search value.

https://hl7.org/fhir/R4/search.html#number — ``100`` means [99.5, 100.5), ``1e2`` means
[50, 150). Values are indexed as ranges ``{lo, hi}`` (equal for a plain number, the bounds
of a Range) so one comparison scheme serves numbers, quantities and ranges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..filters import RANK_RANGE, Condition, Element, none_of
from ..normalize import number_value, parse_decimal, to_decimal
from ..paths import Node
from . import IndexContext, split_prefix

__all__ = ["NumberParameter", "NumberValue", "number_match", "parse_number", "LOWEST",
           "HIGHEST"]

LOWEST = float("-inf")
HIGHEST = float("inf")


@dataclass(frozen=True)
class NumberValue:
    prefix: str
    value: Decimal


def parse_number(text: str, name: str) -> NumberValue:
    prefix, rest = split_prefix(text)
    return NumberValue(prefix, parse_decimal(rest, name))


def _half_step(value: Decimal) -> Decimal:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return Decimal(5).scaleb(exponent - 1)


def number_match(value: NumberValue, low: str = "lo", high: str = "hi",
                 convert: Callable[[Decimal], Decimal] = lambda d: d,
                 ) -> tuple[dict[str, Any], tuple[str, Any] | None]:
    """(element match, index hint) comparing entries' ``[low, high]`` with the value
    (for ``ne``, the match its values must all fail); ``convert`` maps search numbers to
    the unit of the indexed values."""
    number = value.value
    half = _half_step(number)
    start, end = number_value(convert(number - half)), number_value(convert(number + half))
    exact = number_value(convert(number))
    match value.prefix:
        case "eq" | "ne":
            return ({low: {"$gte": start}, high: {"$lt": end}},
                    (low, {"$gte": start, "$lt": end}))
        case "gt":
            return {high: {"$gt": exact}}, None
        case "lt":
            return {low: {"$lt": exact}}, None
        case "ge":
            return {high: {"$gte": exact}}, None
        case "le":
            return {low: {"$lte": exact}}, None
        case "sa":
            return {low: {"$gt": exact}}, None
        case "eb":
            return {high: {"$lt": exact}}, None
    margin = abs(number) / 10
    above, below = number_value(convert(number + margin)), number_value(convert(number - margin))
    return {low: {"$lte": above}, high: {"$gte": below}}, (low, {"$lte": above})


def _bounds(value: Any, kind: str | None) -> tuple[Decimal | None, Decimal | None] | None:
    number = to_decimal(value)
    if number is not None:
        return number, number
    if isinstance(value, dict) and (kind == "Range" or "low" in value or "high" in value):
        low = to_decimal((value.get("low") or {}).get("value"))
        high = to_decimal((value.get("high") or {}).get("value"))
        if low is None and high is None:
            return None
        return low, high
    if isinstance(value, dict):
        number = to_decimal(value.get("value"))
        if number is not None:
            return number, number
    return None


def range_entry(low: Decimal | None, high: Decimal | None) -> dict[str, Any]:
    return {"lo": LOWEST if low is None else number_value(low),
            "hi": HIGHEST if high is None else number_value(high)}


class NumberParameter:
    name = "number"
    modifiers: frozenset[str] = frozenset()

    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]:
        found = [b for b in (_bounds(n.value, n.type_code) for n in nodes) if b]
        return [range_entry(low, high) for low, high in dict.fromkeys(found)]

    def parse(
        self, text: str, modifier: str | None, parameter: Any, context: IndexContext
    ) -> NumberValue:
        return parse_number(text, parameter.code)

    def condition(self, value: NumberValue, modifier: str | None, path: str) -> Condition:
        match, hint = number_match(value)
        if value.prefix == "ne":
            return none_of(path, match)
        return Element(path, match, hint=hint, rank=RANK_RANGE)

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None:
        if not entries:
            return None
        return min(e["lo"] for e in entries), max(e["hi"] for e in entries)
