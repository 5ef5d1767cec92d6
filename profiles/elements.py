"""StructureDefinition snapshots compiled into element trees, once per definition.

A :class:`TypeModel` lists the JSON properties an object of a type (or of a backbone
element) may carry; each is an :class:`ElementRule` compiled from an ElementDefinition
(https://hl7.org/fhir/R4/elementdefinition.html). Choice elements ``value[x]`` become one
property per allowed type (``valueQuantity``, ``valueString``, ...), as in FHIR JSON
(https://hl7.org/fhir/R4/formats.html#choice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .definitions import structure_definitions
from .invariants import Invariant, core_invariant
from .primitives import PrimitiveType, is_primitive, primitive_type

__all__ = ["ElementRule", "TypeModel", "model_for", "type_url", "RESOURCE_TYPE_CODES"]

CORE = "http://hl7.org/fhir/StructureDefinition/"
RESOURCE_TYPE_CODES = frozenset({"Resource", "DomainResource"})
_SYSTEM_PREFIX = "http://hl7.org/fhirpath/System."
_FHIR_TYPE_URL = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
_INLINE_TYPES = frozenset({"BackboneElement", "Element"})


def type_url(type_code: str) -> str:
    return f"{CORE}{type_code}"


@dataclass(eq=False)
class ElementRule:
    """One JSON property: cardinality, type and required binding of an ElementDefinition."""

    name: str
    path: str
    min: int
    max: int | None
    repeats: bool
    type_code: str
    primitive: PrimitiveType | None
    model_url: str
    choice: str | None
    binding: str | None
    children: TypeModel | None = None
    extension_key: str = field(init=False)

    def __post_init__(self) -> None:
        self.extension_key = f"_{self.name}"

    def name_stem(self) -> str:
        """The JSON name without its type suffix for a choice (``value`` of ``valueString``)."""
        return self.path.rsplit(".", 1)[1].removesuffix("[x]")

    def model(self) -> TypeModel:
        """The model of this element's value (for a primitive: its ``id`` and ``extension``)."""
        if self.children is None:
            self.children = model_for(self.model_url)
        return self.children


@dataclass(eq=False)
class TypeModel:
    """The properties an object at ``path`` may carry, and which of them are required."""

    path: str
    is_resource: bool
    properties: dict[str, ElementRule] = field(default_factory=dict)
    required: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    invariants: tuple[Invariant, ...] = ()


@cache
def model_for(url: str) -> TypeModel:
    """The compiled root model of the StructureDefinition with canonical ``url``."""
    definition = structure_definitions().get(url)
    if definition is None:
        raise KeyError(f"Unknown StructureDefinition {url}")
    return _compile(definition)


def _compile(definition: dict[str, Any]) -> TypeModel:
    elements = definition["snapshot"]["element"]
    root = definition["type"]
    is_resource = definition["kind"] == "resource"
    parents = {element["path"].rsplit(".", 1)[0] for element in elements}
    models = {
        element["path"]: TypeModel(element["path"], is_resource and element["path"] == root,
                                   invariants=_invariants(element))
        for element in elements
        if element["path"] == root or element["path"] in parents
    }
    references: list[tuple[ElementRule, str]] = []
    for element in elements:
        path = element["path"]
        if path == root or "sliceName" in element:
            continue
        if definition["kind"] == "primitive-type" and path == f"{root}.value":
            continue
        parent = models[path.rsplit(".", 1)[0]]
        for rule in _rules(element, is_resource and path == f"{root}.id"):
            if path in models:
                rule.children = models[path]
            if "contentReference" in element:
                references.append((rule, element["contentReference"].lstrip("#")))
            parent.properties[rule.name] = rule
        _add_requirement(parent, element)
    for rule, target in references:
        rule.children = models[target]
    return models[root]


def _invariants(element: dict[str, Any]) -> tuple[Invariant, ...]:
    compiled = (core_invariant(c, element["path"]) for c in element.get("constraint", ()))
    return tuple(invariant for invariant in compiled if invariant is not None)


def _add_requirement(model: TypeModel, element: dict[str, Any]) -> None:
    if element.get("min", 0) < 1:
        return
    names = [rule.name for rule in model.properties.values() if rule.path == element["path"]]
    primitives = [f"_{rule.name}" for rule in model.properties.values()
                  if rule.path == element["path"] and rule.primitive is not None]
    model.required.append((element["path"], tuple(names + primitives)))


def _max(value: str | None) -> int | None:
    return None if value in (None, "*") else int(value)


def _rules(element: dict[str, Any], is_resource_id: bool) -> list[ElementRule]:
    """One rule per JSON property name of ``element`` (several for a choice).

    The R4 snapshots type ``Resource.id`` as ``System.String``; the spec's Resource page
    defines it as ``id`` (https://hl7.org/fhir/R4/resource.html#id), which is what is checked.
    """
    path = element["path"]
    name = path.rsplit(".", 1)[1]
    maximum = _max(element.get("max"))
    base_max = _max(element.get("base", {}).get("max", element.get("max")))
    choice = name[:-3] if name.endswith("[x]") else None
    binding = element.get("binding", {})
    required_value_set = binding.get("valueSet") if binding.get("strength") == "required" else None
    declared = element.get("type") or [{"code": "Element"}]
    rules = []
    for declared_type in declared:
        code = "id" if is_resource_id else _type_code(declared_type)
        profiles = [p for p in declared_type.get("profile", []) if p in structure_definitions()]
        primitive = primitive_type(code) if is_primitive(code) else None
        rules.append(ElementRule(
            name=f"{choice}{code[0].upper()}{code[1:]}" if choice is not None else name,
            path=path,
            min=element.get("min", 0),
            max=maximum,
            repeats=base_max is None or base_max > 1,
            type_code=code,
            primitive=primitive,
            model_url=profiles[0] if len(profiles) == 1 else type_url(code),
            choice=path if choice is not None else None,
            binding=required_value_set,
        ))
    return rules


def _type_code(declared_type: dict[str, Any]) -> str:
    """The FHIR type code; ``System.*`` codes use their ``structuredefinition-fhir-type``."""
    code = declared_type["code"]
    if not code.startswith(_SYSTEM_PREFIX):
        return code
    for extension in declared_type.get("extension", []):
        if extension.get("url") == _FHIR_TYPE_URL:
            return extension["valueUrl"]
    return "string"
