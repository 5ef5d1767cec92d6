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
from ..filters import RANK_RANGE, AllOf, Condition, Element, none_of
from ..paths import Node
from . import IndexContext, split_prefix

__all__ = ["DateParameter", "DateValue", "date_match", "months", "EARLIEST", "LATEST",
           "LOWER", "UPPER", "COARSE_FIELD"]

EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
LOWER = ("gt", "ge", "sa")
UPPER = ("lt", "le", "eb")
COARSE_FIELD = "_coarse"
_LONG = "*"  # the bucket of values spanning more than _MAX_MONTHS
_MAX_MONTHS = 24
_MAX_QUERY_MONTHS = 240


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


def months(start: datetime, end: datetime, limit: int) -> list[str] | None:
    """``YYYY-MM`` of every month ``[start, end)`` touches; None beyond ``limit`` months."""
    last = end - timedelta(microseconds=1)
    count = (last.year - start.year) * 12 + last.month - start.month + 1
    if count > limit:
        return None
    year, month = start.year, start.month
    found = []
    for _ in range(max(count, 1)):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def _window(lower: DateValue, upper: DateValue) -> tuple[datetime, datetime]:
    """The instants every value matching both bounds shares some of: ``[a, b)``."""
    low = lower.start if lower.prefix == "ge" else lower.end
    high = upper.end if upper.prefix == "le" else upper.start
    return low, high


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

    def range_condition(self, lower: DateValue, upper: DateValue, path: str) -> Condition:
        """``date=ge...&date=lt...`` as one range on the same value (as HAPI reads it),
        with the month buckets of the range as an indexable necessary condition."""
        low_match, _ = date_match(lower)
        high_match, _ = date_match(upper)
        if low_match.keys() & high_match.keys():
            return AllOf((self.condition(lower, None, path), self.condition(upper, None, path)))
        start, end = _window(lower, upper)
        buckets = months(start, end, _MAX_QUERY_MONTHS) if start < end else []
        coarse = None
        if buckets is not None:
            field = path.replace("search.", f"search.{COARSE_FIELD}.", 1)
            coarse = (field, {"$in": [*buckets, _LONG]})
        return Element(path, {**low_match, **high_match}, rank=RANK_RANGE, index_key=coarse)

    def coarse_keys(self, entries: list[dict[str, Any]]) -> list[str]:
        """The month buckets of a resource's values (``*`` for long periods)."""
        keys: set[str] = set()
        for entry in entries:
            found = months(entry["s"], entry["e"], _MAX_MONTHS)
            keys.update(found if found is not None else [_LONG])
        return sorted(keys)

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None:
        starts = [e["s"] for e in entries]
        return (min(starts), max(starts)) if starts else None
