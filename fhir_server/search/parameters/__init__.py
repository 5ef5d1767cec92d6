"""Search parameter types: one module per type, all with the same small interface.

Each type (string, token, reference, date, number, quantity, uri, composite) knows:

* ``modifiers`` — which modifiers it accepts (``missing`` is handled for all of them);
* ``entries(nodes, context)`` — index entries (one sub-document per value) for the values
  an expression found in a resource;
* ``parse(text, modifier, parameter, context)`` — one search value (raising ``InvalidRequest``);
* ``condition(value, modifier, path)`` — the storage condition for one parsed value;
* ``sort_values(entries)`` — the (ascending, descending) sort keys of a resource.

Modelled on Blaze's ``SearchParam`` protocol. Spec: https://hl7.org/fhir/R4/search.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from ..filters import AnyOf, Condition, Element
from ..paths import Node

__all__ = [
    "IndexContext",
    "ParameterType",
    "split_prefix",
    "split_escaped",
    "unescape",
    "combine_or",
    "one_value_range",
]

_PREFIX = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=[-+0-9.])")


@dataclass(frozen=True)
class IndexContext:
    """What extraction needs besides the values: this server's base URL and, while a
    resource is indexed, that resource (``%resource`` in composite components)."""

    base: str
    resource: dict[str, Any] | None = None


class ParameterType(Protocol):
    name: str
    modifiers: frozenset[str]

    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]: ...

    def parse(
        self, text: str, modifier: str | None, parameter: Any, context: IndexContext
    ) -> Any: ...

    def condition(self, value: Any, modifier: str | None, path: str) -> Condition: ...

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None: ...


def split_prefix(text: str) -> tuple[str, str]:
    """``ge2020`` -> (``ge``, ``2020``); no prefix means ``eq``."""
    match = _PREFIX.match(text)
    if match:
        return match.group(1), text[2:]
    return "eq", text


def split_escaped(text: str, separator: str) -> list[str]:
    """Split on ``separator`` not preceded by a backslash (escapes are kept)."""
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    """Remove the search escapes ``\\,`` ``\\|`` ``\\$`` ``\\\\``."""
    return re.sub(r"\\(.)", r"\1", text)


def combine_or(conditions: list[Condition]) -> Condition:
    return conditions[0] if len(conditions) == 1 else AnyOf(tuple(conditions))


def one_value_range(path: str, field: str, bounds: dict[str, Any], rank: int) -> Element:
    """Some value at ``path`` whose ``field`` lies within ``bounds`` (``$gte`` and ``$lt``).

    Index entries are arrays, and MongoDB lets each operator of a flat
    ``{"search.<code>.<field>": {"$gte": a, "$lt": b}}`` be satisfied by a *different*
    element (two parts of one Address, say), so the range must be one ``$elemMatch``.
    The flat copy (``index_key``) is kept as a necessary condition that an index on
    ``search.<code>.<field>`` answers; the ``$elemMatch`` decides.
    """
    return Element(path, {field: bounds}, rank=rank, index_key=(f"{path}.{field}", bounds))
