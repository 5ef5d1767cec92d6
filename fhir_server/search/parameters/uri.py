"""URI search parameters: exact match, ``:below`` (starts with), ``:above`` (is a parent).

https://hl7.org/fhir/R4/search.html#uri
"""

from __future__ import annotations

from typing import Any

from ..filters import RANK_EQUAL, RANK_RANGE, Condition, Element
from ..paths import Node
from . import IndexContext, one_value_range, unescape
from .string import prefix_range

__all__ = ["UriParameter", "above"]


def above(uri: str) -> list[str]:
    """``uri`` and every parent of it along its path segments."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return [uri]
    segments = rest.split("/")
    return [f"{scheme}://{'/'.join(segments[:n])}" for n in range(1, len(segments) + 1)]


class UriParameter:
    name = "uri"
    modifiers = frozenset({"below", "above"})

    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]:
        values = {n.value for n in nodes if isinstance(n.value, str) and n.value}
        return [{"u": v} for v in sorted(values)]

    def parse(
        self, text: str, modifier: str | None, parameter: Any, context: IndexContext
    ) -> str:
        return unescape(text)

    def condition(self, value: str, modifier: str | None, path: str) -> Condition:
        if modifier == "below":
            return one_value_range(path, "u", prefix_range(value), RANK_RANGE)
        if modifier == "above":
            return Element(path, {"u": {"$in": above(value)}}, rank=RANK_EQUAL)
        return Element(path, {"u": value}, rank=RANK_EQUAL)

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None:
        values = [e["u"] for e in entries]
        return (min(values), max(values)) if values else None
