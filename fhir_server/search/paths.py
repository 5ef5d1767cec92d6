"""Evaluating SearchParameter expressions (FHIRPath) against FHIR JSON.

Almost every R4 SearchParameter expression is a simple path: ``Patient.name``,
``(Observation.value.ofType(Quantity))``, ``Observation.subject.where(resolve() is
Patient)``, ``Bundle.entry[0].resource``, ``X.where(system='email')``. Those are compiled
here into steps walked over the JSON with the element types of the StructureDefinitions,
so every value comes back with its FHIR type. Anything else is evaluated by ``fhirpathpy``
(compiled once per expression), whose results carry no type (``None``).

Type names in ``ofType()``/``as()``/``is()`` compare as HAPI's FHIRPath engine compares
them (``Base.hasType``): the exact FHIR type, case-insensitively, so the R4 definitions'
``value.ofType(DateTime)`` (``code-value-date``) selects ``valueDateTime``; a subtype is
not its parent (``ofType(uri)`` does not select a ``canonical``). ``%resource`` in a
composite component is the resource being indexed.

See https://hl7.org/fhir/R4/searchparameter.html and https://hl7.org/fhirpath/.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from .elements import Context, children, root_context

__all__ = [
    "Node",
    "Extractor",
    "compile_expression",
    "compile_relative",
    "split_union",
    "reference_type",
    "check_syntax",
    "fhir_type_names",
    "Relative",
]

log = logging.getLogger(__name__)

_GENERIC_ROOTS = ("Resource", "DomainResource")
_RESOURCE_VARIABLE = "%resource"
# FHIRPath's System types and the FHIR primitive of the same name
# (https://hl7.org/fhir/R4/fhirpath.html#types).
_SYSTEM_TYPES = {"Boolean": "boolean", "String": "string", "Integer": "integer",
                 "Decimal": "decimal", "Date": "date", "DateTime": "dateTime", "Time": "time"}
_TYPE_SPECIFIER = re.compile(
    r"(?P<head>\b(?:ofType|as|is)\(\s*|\s(?:as|is)\s+)(?:FHIR\.|System\.)?(?P<name>[A-Za-z]+)")


class Node(NamedTuple):
    """A value found by an expression, with its FHIR type when known."""

    value: Any
    type_code: str | None
    context: Context | None = None


Extractor = Callable[[dict[str, Any]], list[Node]]


def split_union(expression: str) -> list[str]:
    """The top-level ``|`` alternatives of an expression."""
    parts, depth, start, quoted = [], 0, 0, False
    for i, char in enumerate(expression):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(expression[start:i].strip())
            start = i + 1
    parts.append(expression[start:].strip())
    return [p for p in parts if p]


def _unwrap(part: str) -> str:
    """``(A.b.ofType(X)).c`` -> ``A.b.ofType(X).c``."""
    while part.startswith("("):
        depth = 0
        for i, char in enumerate(part):
            depth += char == "("
            depth -= char == ")"
            if depth == 0:
                part = part[1:i] + part[i + 1 :]
                break
        else:
            return part
    return part


def part_root(part: str) -> str:
    match = re.match(r"[A-Za-z]+", _unwrap(part))
    return match.group(0) if match else ""


_STEP = re.compile(
    r"""\.(?:
        (?P<oftype>(?:ofType|as)\((?:FHIR\.|System\.)?(?P<type>[A-Za-z]+)\))
      | (?P<resolve>where\(resolve\(\)\s+is\s+(?P<target>[A-Za-z]+)\))
      | (?P<where>where\((?P<field>[a-z][A-Za-z]*)\s*=\s*'(?P<literal>[^']*)'\))
      | (?P<name>[a-z][A-Za-z0-9]*)
    )(?P<index>\[\d+\])?""",
    re.VERBOSE,
)


def _parse_steps(path: str) -> list[tuple[str, ...]] | None:
    steps: list[tuple[str, ...]] = []
    position = 0
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            return None
        if match["oftype"]:
            steps.append(("type", match["type"].lower()))
        elif match["resolve"]:
            steps.append(("resolve", match["target"]))
        elif match["where"]:
            steps.append(("where", match["field"], match["literal"]))
        else:
            steps.append(("child", match["name"]))
        if match["index"]:
            steps.append(("index", match["index"][1:-1]))
        position = match.end()
    return steps


def reference_type(reference: Any) -> str | None:
    """The resource type a Reference points at, from ``reference`` or ``type``."""
    if not isinstance(reference, dict):
        return None
    text = reference.get("reference")
    if isinstance(text, str):
        segments = text.split("/_history/")[0].split("/")
        if len(segments) >= 2 and segments[-2][:1].isupper():
            return segments[-2]
    kind = reference.get("type")
    return kind if isinstance(kind, str) else None


def _child_step(nodes: list[Node], name: str) -> list[Node]:
    result: list[Node] = []
    for node in nodes:
        if node.context is None or not isinstance(node.value, dict):
            continue
        for child in children(node.context, name):
            value = node.value.get(child.key)
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            result.extend(Node(v, child.type_code, child.context) for v in values
                          if v is not None)
    return result


def _apply(step: tuple[str, ...], nodes: list[Node]) -> list[Node]:
    kind = step[0]
    if kind == "child":
        return _child_step(nodes, step[1])
    if kind == "type":
        return [n for n in nodes if n.type_code is not None and n.type_code.lower() == step[1]]
    if kind == "resolve":
        return [n for n in nodes if reference_type(n.value) == step[1]]
    if kind == "where":
        return [n for n in nodes
                if isinstance(n.value, dict) and n.value.get(step[1]) == step[2]]
    index = int(step[1])
    return nodes[index : index + 1]


def _compile_part(resource_type: str, part: str) -> Extractor | None:
    path = _unwrap(part)
    root = part_root(part)
    if root in (resource_type, *_GENERIC_ROOTS):
        path = path[len(root):]
    elif root[:1].islower():
        path = "." + path
    else:
        return None
    steps = _parse_steps(path)
    if steps is None:
        return None
    context = root_context(resource_type)
    first_keys = (tuple(c.key for c in children(context, steps[0][1]))
                  if steps and steps[0][0] == "child" else None)

    def extract(resource: dict[str, Any]) -> list[Node]:
        if first_keys is not None and not any(key in resource for key in first_keys):
            return []
        nodes = [Node(resource, resource_type, context)]
        for step in steps:
            nodes = _apply(step, nodes)
            if not nodes:
                break
        return nodes

    return extract


def fhir_type_names(expression: str) -> str:
    """``expression`` with FHIRPath System type names in type specifiers (``ofType``,
    ``as``, ``is``) replaced by the FHIR primitive of that name, outside string literals:
    ``value.ofType(DateTime)`` -> ``value.ofType(dateTime)``, as HAPI reads them."""
    pieces = re.split(r"('(?:[^'\\]|\\.)*')", expression)
    for index in range(0, len(pieces), 2):
        pieces[index] = _TYPE_SPECIFIER.sub(
            lambda m: m["head"] + _SYSTEM_TYPES.get(m["name"], m["name"]), pieces[index])
    return "".join(pieces)


def _rooted(resource_type: str, part: str) -> str:
    """``Resource.x`` / ``DomainResource.x`` as ``<resource_type>.x`` (fhirpathpy does not
    take a resource for its base type)."""
    return re.sub(r"^(\(*)(?:Resource|DomainResource)\.",
                  lambda m: f"{m.group(1)}{resource_type}.", part)


def _fallback(part: str) -> Callable[[Any, dict[str, Any] | None], list[Node]]:
    """``fhirpathpy`` evaluating ``part``; the second argument is the resource that
    ``%resource`` names."""
    import fhirpathpy
    from fhirpathpy.models import models

    compiled = fhirpathpy.compile(fhir_type_names(part), model=models["r4"])

    def extract(value: Any, resource: dict[str, Any] | None = None) -> list[Node]:
        try:
            values = compiled(value, {"resource": resource if resource is not None else value})
        except Exception as exc:  # fhirpathpy raises plain Exceptions
            log.warning("search expression %r failed: %s", part, exc)
            return []
        return [Node(v, None) for v in values if v is not None]

    return extract


def applies_to(resource_type: str, part: str) -> bool:
    root = part_root(part)
    return root in (resource_type, *_GENERIC_ROOTS) or root[:1].islower()


def compile_expression(resource_type: str, expression: str) -> Extractor:
    """An extractor for the parts of ``expression`` that apply to ``resource_type``."""
    extractors: list[Extractor] = [
        _compile_part(resource_type, part) or _fallback(_rooted(resource_type, part))
        for part in split_union(expression)
        if applies_to(resource_type, part)
    ]
    if len(extractors) == 1:
        return extractors[0]

    def extract(resource: dict[str, Any]) -> list[Node]:
        return [node for extractor in extractors for node in extractor(resource)]

    return extract


Relative = Callable[[Node, dict[str, Any]], list[Node]]


def compile_relative(resource_type: str, expression: str) -> Relative:
    """An extractor for a composite component: ``expression`` relative to a node of a
    ``resource_type`` resource (the second argument, which ``%resource`` names)."""
    compiled: list[Relative] = []
    for part in split_union(expression):
        compiled.append(_relative_part(resource_type, part))
    return lambda node, resource: [found for walk in compiled for found in walk(node, resource)]


def _relative_part(resource_type: str, part: str) -> Relative:
    path = _unwrap(part)
    if path.startswith(_RESOURCE_VARIABLE + "."):
        absolute = _compile_part(resource_type, resource_type + path[len(_RESOURCE_VARIABLE):])
        if absolute is not None:
            return lambda node, resource: absolute(resource)
    steps = _parse_steps("." + path)
    if steps is None:
        fallback = _fallback(part)
        return lambda node, resource: fallback(node.value, resource)

    def walk(node: Node, resource: dict[str, Any]) -> list[Node]:
        nodes = [node]
        for step in steps:
            nodes = _apply(step, nodes)
        return nodes

    return walk


def check_syntax(expression: str) -> None:
    """Raise ValueError when ``expression`` is not valid FHIRPath (``fhirpathpy`` itself
    recovers from syntax errors silently)."""
    from antlr4 import CommonTokenStream, InputStream, Token
    from antlr4.error.ErrorListener import ErrorListener
    from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
    from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

    class Raising(ErrorListener):  # type: ignore[misc]
        def syntaxError(self, recognizer: Any, symbol: Any, line: int, column: int,
                        message: str, error: Any) -> None:
            raise ValueError(f"column {column}: {message}")

    lexer = FHIRPathLexer(InputStream(expression))
    lexer.removeErrorListeners()
    lexer.addErrorListener(Raising())
    parser = FHIRPathParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(Raising())
    parser.expression()
    if parser.getCurrentToken().type != Token.EOF:
        raise ValueError(f"unexpected '{parser.getCurrentToken().text}'")
