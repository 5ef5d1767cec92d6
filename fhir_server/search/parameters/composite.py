"""Composite search parameters, e.g. Observation ``code-value-quantity``.

https://hl7.org/fhir/R4/search.html#composite — the value is the component values joined
by ``$``; all of them must match *the same* element found by the parameter's expression
(e.g. the same ``Observation.component``). Index entries are the cross product of the
components' entries per element: ``{"0": <code entry>, "1": <quantity entry>}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

from ...errors import InvalidRequest
from ..filters import Condition, Element
from ..paths import Node, Relative
from . import IndexContext, ParameterType, split_escaped

__all__ = ["CompositeParameter", "Component"]

_MAX_ENTRIES = 200


@dataclass(frozen=True)
class Component:
    kind: ParameterType
    extract: Relative  # (element, resource) -> the component's values
    parameter: Any  # the component's SearchParameter definition


def _prefixed(match: dict[str, Any], prefix: str) -> dict[str, Any]:
    """An element match rewritten to apply to the sub-document ``prefix``."""
    return {f"{prefix}.{key}": value for key, value in match.items()}


class CompositeParameter:
    name = "composite"
    modifiers: frozenset[str] = frozenset()

    def __init__(self, components: list[Component]) -> None:
        self.components = components

    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        resource = context.resource or {}
        for node in nodes:
            per_component = [
                [e for e in c.kind.entries(c.extract(node, resource), context)
                 if set(e) != {"d"}]
                for c in self.components
            ]
            for combination in product(*per_component):
                entries.append({str(i): e for i, e in enumerate(combination)})
                if len(entries) >= _MAX_ENTRIES:
                    return entries
        return entries

    def parse(
        self, text: str, modifier: str | None, parameter: Any, context: IndexContext
    ) -> list[Any]:
        parts = split_escaped(text, "$")
        if len(parts) != len(self.components):
            raise InvalidRequest(
                f"{parameter.code} takes {len(self.components)} values joined by '$', "
                f"got '{text[:80]}'"
            )
        return [c.kind.parse(part, None, c.parameter, context)
                for c, part in zip(self.components, parts, strict=True)]

    def condition(self, value: list[Any], modifier: str | None, path: str) -> Condition:
        match: dict[str, Any] = {}
        for index, (component, part) in enumerate(zip(self.components, value, strict=True)):
            condition = component.kind.condition(part, None, "")
            if not isinstance(condition, Element):
                raise InvalidRequest(f"Composite parameter values take no 'ne' prefix ({path})")
            match.update(_prefixed(condition.match, str(index)))
        return Element(path, match)

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None:
        return None
