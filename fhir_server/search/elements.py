"""Element types of the R4 resources and datatypes, for walking FHIR JSON by path.

A *context* names where a JSON object sits in the type system: ``(definition, path)``,
e.g. ``("Observation", "Observation.component")`` for a backbone element or
``("HumanName", "HumanName")`` for a datatype. :func:`children` answers which JSON keys
an element name maps to below a context (several for a choice element such as
``value[x]``), with the FHIR type of each and the context to continue in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from profiles.definitions import structure_definition

__all__ = ["Child", "Context", "children", "root_context"]

Context = tuple[str, str]


@dataclass(frozen=True)
class Child:
    """One JSON key an element name maps to: ``valueQuantity`` for ``value``."""

    key: str
    type_code: str
    context: Context | None  # None for primitive values


@cache
def _elements(definition_name: str) -> tuple[str, dict[str, dict[str, Any]]]:
    """(base type name, ElementDefinitions by path) of a type or resource definition."""
    definition = structure_definition(definition_name)
    if definition is None or "snapshot" not in definition:
        return definition_name, {}
    return definition["type"], {e["path"]: e for e in definition["snapshot"]["element"]}


def root_context(resource_type: str) -> Context:
    base, _ = _elements(resource_type)
    return (resource_type, base)


def _type_context(type_code: str) -> Context | None:
    if not type_code[:1].isupper():
        return None
    base, elements = _elements(type_code)
    return (type_code, base) if elements else None


@cache
def children(context: Context, name: str) -> tuple[Child, ...]:
    """JSON keys (with types) that the element ``name`` below ``context`` occupies."""
    definition_name, path = context
    _, elements = _elements(definition_name)
    element = elements.get(f"{path}.{name}")
    if element is not None:
        if "contentReference" in element:
            target = element["contentReference"].split("#", 1)[1]
            return (Child(name, "BackboneElement", (definition_name, target)),)
        types = [t["code"] for t in element.get("type", [])]
        type_code = types[0] if len(types) == 1 else "Element"
        if type_code in ("BackboneElement", "Element"):
            return (Child(name, type_code, (definition_name, f"{path}.{name}")),)
        return (Child(name, type_code, _type_context(type_code)),)
    choice = elements.get(f"{path}.{name}[x]")
    if choice is None:
        return ()
    result = []
    for item in choice.get("type", []):
        code = item["code"]
        key = name + code[:1].upper() + code[1:]
        result.append(Child(key, code, _type_context(code)))
    return tuple(result)
