"""A profile's snapshot compiled into a tree of element nodes, once per definition.

Each :class:`ElementNode` carries what a profile can say about an element beyond the
base definition (https://hl7.org/fhir/R4/profiling.html): cardinality, allowed types and
their profiles and target profiles, fixed and pattern values, a binding with its strength,
invariants, min/max values, slicing with its slices, and ``mustSupport``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .definitions import structure_definition
from .fhirpath import CompiledInvariant, compile_invariant

__all__ = ["ElementNode", "Slicing", "compile_tree", "core_element"]

CORE = "http://hl7.org/fhir/StructureDefinition/"
_SKIPPED_INVARIANTS = frozenset({"ele-1", "ext-1"})  # checked structurally


@dataclass(frozen=True)
class Discriminator:
    type: str  # value, pattern, type, profile, exists
    path: str


@dataclass(frozen=True)
class Slicing:
    discriminators: tuple[Discriminator, ...]
    rules: str  # open, closed, openAtEnd
    ordered: bool


@dataclass(eq=False)
class ElementNode:
    """One element of a profile snapshot, with its children and slices."""

    element: dict[str, Any]
    path: str
    name: str
    slice_name: str | None
    min: int
    max: int | None
    base_min: int
    base_max: int | None
    types: tuple[str, ...]
    type_profiles: dict[str, tuple[str, ...]]
    target_profiles: tuple[str, ...]
    fixed: tuple[str, Any] | None
    pattern: tuple[str, Any] | None
    binding: tuple[str, str] | None  # (strength, value set)
    core_binding: str | None
    invariants: tuple[CompiledInvariant, ...]
    must_support: bool
    slicing: Slicing | None = None
    children: dict[str, ElementNode] = field(default_factory=dict)
    slices: list[ElementNode] = field(default_factory=list)

    @property
    def is_choice(self) -> bool:
        return self.name.endswith("[x]")

    @property
    def stem(self) -> str:
        return self.name.removesuffix("[x]")


def _max(value: str | None) -> int | None:
    return None if value in (None, "*") else int(value)


def _prefixed(element: dict[str, Any], prefix: str) -> tuple[str, Any] | None:
    for key, value in element.items():
        if key.startswith(prefix) and key != prefix:
            return key[len(prefix):], value
    return None


def core_element(base_path: str) -> dict[str, Any] | None:
    """The core R4 ElementDefinition at ``base_path`` (``Observation.code``)."""
    definition = structure_definition(base_path.split(".", 1)[0])
    if definition is None:
        return None
    for element in definition["snapshot"]["element"]:
        if element["path"] == base_path:
            return element
    return None


def _type_code(declared: dict[str, Any]) -> str:
    code = declared["code"]
    if code.startswith("http://hl7.org/fhirpath/System."):
        return "string"
    return code


def _node(element: dict[str, Any], root_type: str) -> ElementNode:
    path = element["path"]
    base = element.get("base", {})
    core = core_element(base.get("path", path))
    core_keys = {c.get("key") for c in (core or {}).get("constraint", [])}
    binding = element.get("binding", {})
    core_binding = (core or {}).get("binding", {})
    declared = element.get("type", [])
    return ElementNode(
        element=element,
        path=path,
        name=path.rsplit(".", 1)[-1],
        slice_name=element.get("sliceName"),
        min=element.get("min", 0),
        max=_max(element.get("max")),
        base_min=base.get("min", element.get("min", 0)),
        base_max=_max(base.get("max", element.get("max"))),
        types=tuple(_type_code(t) for t in declared),
        type_profiles={_type_code(t): tuple(t["profile"]) for t in declared if t.get("profile")},
        target_profiles=tuple(p for t in declared for p in t.get("targetProfile", [])),
        fixed=_prefixed(element, "fixed"),
        pattern=_prefixed(element, "pattern"),
        binding=((binding["strength"], binding["valueSet"])
                 if binding.get("valueSet") and binding.get("strength") else None),
        core_binding=(core_binding.get("valueSet")
                      if core_binding.get("strength") == "required" else None),
        invariants=tuple(
            invariant for invariant in (
                compile_invariant(c, path if "." in path else root_type)
                for c in element.get("constraint", [])
                if c.get("key") not in core_keys and c.get("key") not in _SKIPPED_INVARIANTS
                and c.get("expression")
            ) if invariant is not None
        ),
        must_support=bool(element.get("mustSupport")),
        slicing=_slicing(element.get("slicing")),
    )


def _slicing(slicing: dict[str, Any] | None) -> Slicing | None:
    if not slicing:
        return None
    return Slicing(
        tuple(Discriminator(d.get("type", "value"), d.get("path", "$this"))
              for d in slicing.get("discriminator", [])),
        slicing.get("rules", "open"),
        bool(slicing.get("ordered")),
    )


def compile_tree(definition: dict[str, Any]) -> ElementNode:
    """The root node of ``definition``'s snapshot."""
    elements = definition["snapshot"]["element"]
    root_type = definition.get("type") or elements[0]["path"]
    nodes: dict[str, ElementNode] = {}
    root: ElementNode | None = None
    for element in elements:
        element_id = element.get("id") or element["path"]
        node = _node(element, root_type)
        nodes[element_id] = node
        parent_id, _, last = element_id.rpartition(".")
        name, _, slice_name = last.partition(":")
        if not parent_id and not slice_name:
            root = node
            continue
        sliced_id = f"{parent_id}.{name}" if parent_id else name
        if slice_name and "/" not in slice_name and sliced_id in nodes:
            nodes[sliced_id].slices.append(node)
        elif not slice_name and parent_id in nodes:
            nodes[parent_id].children[name] = node
    if root is None:
        raise ValueError(f"StructureDefinition {definition.get('url')} has no root element")
    return root
