"""Invariants (``ElementDefinition.constraint``) evaluated with a FHIRPath engine.

https://hl7.org/fhir/R4/conformance-rules.html#constraints. Expressions are parsed once
(``fhirpathpy``) and evaluated against the element with ``%resource``/``%rootResource``
set; an expression the engine cannot evaluate (an unsupported function such as
``htmlChecks()``) is skipped, never held against the resource.

Two readings follow the reference validators rather than fhirpathpy's defaults:

* An invariant fails only when its expression evaluates to ``false``. An empty result
  (FHIRPath's "unknown": ``probability is decimal implies ...`` on a prediction without
  probability) is not a violation, as the Firely validator's ``Predicate`` reads it.
* A FHIR primitive is also of the System type it maps to
  (https://hl7.org/fhir/R4/fhirpath.html#types): ``answer is Boolean`` holds for
  ``answerBoolean`` (que-7), as in the Java validator, which compares the capitalised
  FHIR type name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhirpathpy import apply_parsed_path
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models
from fhirpathpy.parser import parse

__all__ = ["CompiledInvariant", "compile_invariant", "evaluate_invariant"]

log = logging.getLogger(__name__)
# FHIR primitive type -> the System type its values are (fhirpath.html#types)
_SYSTEM_TYPES = {"boolean": "Boolean", "string": "String", "uri": "String",
                 "integer": "Integer", "decimal": "Decimal", "date": "Date",
                 "dateTime": "DateTime", "instant": "DateTime", "time": "Time"}


def _with_system_supertypes(model: dict[str, Any]) -> dict[str, Any]:
    """``model`` with each FHIR primitive's System type inserted above it, so that the
    engine's ``is``/``as``/``ofType`` see ``boolean`` as a kind of ``Boolean``."""
    parents = dict(model["type2Parent"])
    for primitive, system_type in _SYSTEM_TYPES.items():
        parents[system_type] = parents.get(primitive, "Element")
        parents[primitive] = system_type
    return {**model, "type2Parent": parents}


_R4 = _with_system_supertypes(models["r4"])
_PATH_TYPES: dict[str, str] = _R4["path2Type"]
_OPTIONS = {"traceFn": lambda *_args: None}


@dataclass(frozen=True)
class CompiledInvariant:
    key: str
    severity: str  # error or warning
    human: str
    expression: str
    type_path: str  # the element path giving the engine its type information
    parsed: Any


@cache
def _parsed(expression: str) -> Any | None:
    try:
        return parse(expression)
    except Exception:  # noqa: BLE001 - the parser raises bare Exceptions
        log.info("FHIRPath expression not supported: %s", expression)
        return None


def compile_invariant(constraint: dict[str, Any], type_path: str) -> CompiledInvariant | None:
    """The compiled form of one constraint, or None when its expression cannot be parsed."""
    expression = constraint.get("expression")
    if not expression:
        return None
    parsed = _parsed(expression)
    if parsed is None:
        return None
    return CompiledInvariant(constraint.get("key", "?"), constraint.get("severity", "error"),
                             constraint.get("human", constraint.get("key", "")), expression,
                             type_path.split(":", 1)[0], parsed)


def evaluate_invariant(invariant: CompiledInvariant, value: Any, resource: Any, root: Any,
                       type_code: str | None = None) -> bool | None:
    """Whether ``value`` satisfies the invariant (an empty result does), with ``resource``
    and ``root`` as ``%resource`` and ``%rootResource``; None when the expression cannot
    be evaluated.
    ``type_code`` names the value's type when the element path does not (a choice
    element, a primitive)."""
    try:
        node = ResourceNode.create_node(
            value, type_code or _node_type(value, invariant.type_path, resource))
        result = apply_parsed_path(node, invariant.parsed,
                                   {"resource": _typed(resource), "rootResource": _typed(root)},
                                   _R4, _OPTIONS)
    except Exception:  # noqa: BLE001 - the engine raises bare Exceptions
        log.debug("Cannot evaluate %s: %s", invariant.key, invariant.expression)
        return None
    if result == [True] or result == []:
        return True
    if result == [False]:
        return False
    return None


def _node_type(value: Any, path: str, resource: Any) -> str:
    """What the engine should take ``value`` at element ``path`` to be (``%context``'s
    ``type()``): a resource's own type, the element's datatype, or the path itself (a
    backbone element); inside a contained resource, paths are read from its own type."""
    if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
        return value["resourceType"]
    known = _PATH_TYPES.get(path)
    if known is None and isinstance(resource, dict):
        own = resource.get("resourceType")
        _, contained, rest = path.partition(".contained.")
        if contained and isinstance(own, str):
            path = f"{own}.{rest}"
            known = _PATH_TYPES.get(path)
    return known or path


def _typed(resource: Any) -> Any:
    """A resource as an engine node that knows its type (for ``%resource.type()``)."""
    if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
        return ResourceNode.create_node(resource, resource["resourceType"])
    return resource
