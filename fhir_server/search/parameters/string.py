"""String search parameters: case- and accent-insensitive prefix match by default.

https://hl7.org/fhir/R4/search.html#string — ``:exact`` compares the whole value exactly,
``:contains`` matches anywhere. HumanName and Address match on any of their parts.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import InvalidRequest
from ..filters import RANK_EQUAL, RANK_RANGE, Condition, Element
from ..normalize import normalize_text
from ..paths import Node
from . import IndexContext, one_value_range, unescape

__all__ = ["StringParameter", "string_texts", "prefix_range"]

_NAME_PARTS = ("text", "family", "given", "prefix", "suffix")
_ADDRESS_PARTS = ("text", "line", "city", "district", "state", "postalCode", "country")
_LAST = "\U0010ffff"


def prefix_range(prefix: str) -> dict[str, str]:
    """The strings starting with ``prefix``, as a range an index can answer."""
    return {"$gte": prefix, "$lt": prefix + _LAST}


def _parts(value: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    texts: list[str] = []
    for name in names:
        part = value.get(name)
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, list):
            texts.extend(p for p in part if isinstance(p, str))
    return texts


def string_texts(node: Node) -> list[str]:
    """The strings a value contributes to a string parameter."""
    value = node.value
    if isinstance(value, str):
        return [value]
    if not isinstance(value, dict):
        return []
    if node.type_code == "HumanName" or (node.type_code is None and "family" in value):
        return _parts(value, _NAME_PARTS)
    if node.type_code == "Address" or (node.type_code is None and "city" in value):
        return _parts(value, _ADDRESS_PARTS)
    return _parts(value, ("text", "display", "value"))


class StringParameter:
    name = "string"
    modifiers = frozenset({"exact", "contains"})

    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for node in nodes:
            for text in string_texts(node):
                if text.strip():
                    seen.setdefault(text, {"n": normalize_text(text), "x": text})
        return list(seen.values())

    def parse(
        self, text: str, modifier: str | None, parameter: Any, context: IndexContext
    ) -> str:
        value = unescape(text)
        if len(value) > 1000:
            raise InvalidRequest(f"Search value for '{parameter.code}' is too long")
        return value

    def condition(self, value: str, modifier: str | None, path: str) -> Condition:
        """Each form with a condition on ``n`` that the ``<code>.n`` index answers: the
        folded value for ``:exact`` (an exact value folds to it), its prefix range by
        default, and for ``:contains`` a substring (MongoDB scans the index keys, not the
        documents)."""
        normalized = normalize_text(value)
        if modifier == "exact":
            return Element(path, {"x": value}, rank=RANK_EQUAL,
                           index_key=(f"{path}.n", normalized))
        if modifier == "contains":
            contains = {"$regex": re.escape(normalized)}
            return Element(path, {"n": contains}, index_key=(f"{path}.n", contains))
        return one_value_range(path, "n", prefix_range(normalized), RANK_RANGE)

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None:
        values = [e["n"] for e in entries]
        return (min(values), max(values)) if values else None
