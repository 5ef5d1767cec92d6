"""Date search parameters over date, dateTime, instant, Period and Timing values.

https://hl7.org/fhir/R4/search.html#date — every value is a range ``[s, e)`` with its
implicit precision (``2024-03`` is the whole month), and prefixes compare the range of the
search value with the ranges of the target values (see :func:`date_match`). ``ne`` matches
resources none of whose values lies within the search range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ... import clock
from ...dates import parse_date_range
from ...errors import FhirError, InvalidRequest
from ..filters import RANK_RANGE, Condition, Element, none_of
from ..paths import Node
from . import IndexContext, split_prefix

__all__ = ["DateParameter", "DateValue", "date_match", "EARLIEST", "LATEST"]

EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


@dataclass(frozen=True)
class DateValue:
    prefix: str
    start: datetime
    end: datetime


def _range(text: Any) -> tuple[datetime, datetime] | None:
    if not isinstance(text, str):
        return None
    try:
        return parse_date_range(text)
    except FhirError:
        return None


def _ranges(node: Node) -> list[tuple[datetime, datetime]]:
    value, kind = node.value, node.type_code
    if isinstance(value, str):
        found = _range(value)
        return [found] if found else []
    if not isinstance(value, dict):
        return []
    if kind == "Period" or (kind is None and ("start" in value or "end" in value)):
        start, end = _range(value.get("start")), _range(value.get("end"))
        if start is None and end is None:
            return []
        return [(start[0] if start else EARLIEST, end[1] if end else LATEST)]
    if kind == "Timing" or (kind is None and ("event" in value or "repeat" in value)):
        ranges = [r for r in map(_range, value.get("event", [])) if r]
        bounds = value.get("repeat", {}).get("boundsPeriod")
        if isinstance(bounds, dict):
            ranges.extend(_ranges(Node(bounds, "Period")))
        return ranges
    return []


def date_match(value: DateValue) -> tuple[dict[str, Any], tuple[str, Any] | None]:
    """(element match on ``s``/``e``, index hint) for a prefix other than ``ne``.

    ``eq`` is containment in the search range; ``gt``/``ge`` match a target that has any
    part after the end / from the start of the search range, ``lt``/``le`` any part
    before its start / end (as HAPI compares ranges); ``sa``/``eb`` start after / end
    before it; ``ap`` overlaps it widened by 10% of its distance from now.
    """
    start, end = value.start, value.end
    match value.prefix:
        case "eq" | "ne":
            return {"s": {"$gte": start}, "e": {"$lte": end}}, ("s", {"$gte": start, "$lt": end})
        case "gt":
            return {"e": {"$gt": end}}, None
        case "ge":
            return {"e": {"$gt": start}}, None
        case "lt":
            return {"s": {"$lt": start}}, None
        case "le":
            return {"s": {"$lt": end}}, None
        case "sa":
            return {"s": {"$gte": end}}, None
        case "eb":
            return {"e": {"$lte": start}}, None
    margin = max(abs(clock.now() - start) / 10, timedelta(days=1))
    low, high = start - margin, end + margin
    return {"s": {"$lt": high}, "e": {"$gt": low}}, ("e", {"$gt": low})


class DateParameter:
    name = "date"
    modifiers: frozenset[str] = frozenset()

    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]:
        unique = {r for node in nodes for r in _ranges(node)}
        return [{"s": s, "e": e} for s, e in sorted(unique)]

    def parse(
        self, text: str, modifier: str | None, parameter: Any, context: IndexContext
    ) -> DateValue:
        prefix, rest = split_prefix(text)
        if not rest[:4].isdigit():
            raise InvalidRequest(f"Invalid date '{text[:80]}' for {parameter.code}: use "
                                 "[prefix]YYYY[-MM[-DD[Thh:mm[:ss[.sss]][Z|(+|-)hh:mm]]]]")
        start, end = parse_date_range(rest, parameter.code)
        return DateValue(prefix, start, end)

    def condition(self, value: DateValue, modifier: str | None, path: str) -> Condition:
        match, hint = date_match(value)
        if value.prefix == "ne":
            return none_of(path, match)
        return Element(path, match, hint=hint, rank=RANK_RANGE)

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None:
        starts = [e["s"] for e in entries]
        return (min(starts), max(starts)) if starts else None
