"""Evaluating SearchParameter expressions (FHIRPath) against FHIR JSON.

Almost every R4 SearchParameter expression is a simple path: ``Patient.name``,
``(Observation.value.ofType(Quantity))``, ``Observation.subject.where(resolve() is
Patient)``, ``Bundle.entry[0].resource``, ``X.where(system='email')``. Those are compiled
here into steps walked over the JSON with the element types of the StructureDefinitions,
so every value comes back with its FHIR type. Anything else is evaluated by ``fhirpathpy``
(compiled once per expression), whose results carry no type (``None``).

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
]

log = logging.getLogger(__name__)

_GENERIC_ROOTS = ("Resource", "DomainResource")


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
        (?P<oftype>(?:ofType|as)\((?P<type>[A-Za-z]+)\))
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
            steps.append(("type", match["type"]))
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
        return [n for n in nodes if n.type_code == step[1]]
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


def _fallback(part: str) -> Extractor:
    import fhirpathpy
    from fhirpathpy.models import models

    compiled = fhirpathpy.compile(part, model=models["r4"])

    def extract(resource: dict[str, Any]) -> list[Node]:
        try:
            values = compiled(resource)
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
    extractors = [
        _compile_part(resource_type, part) or _fallback(part)
        for part in split_union(expression)
        if applies_to(resource_type, part)
    ]
    if len(extractors) == 1:
        return extractors[0]

    def extract(resource: dict[str, Any]) -> list[Node]:
        return [node for extractor in extractors for node in extractor(resource)]

    return extract


def compile_relative(expression: str) -> Callable[[Node], list[Node]]:
    """An extractor for a composite component: ``expression`` relative to a node."""
    parts = split_union(expression)
    compiled: list[Callable[[Node], list[Node]]] = []
    for part in parts:
        steps = _parse_steps("." + _unwrap(part))
        if steps is None:
            fallback = _fallback(part)
            compiled.append(lambda node, f=fallback: f(node.value))
            continue

        def walk(node: Node, steps: list[tuple[str, ...]] = steps) -> list[Node]:
            nodes = [node]
            for step in steps:
                nodes = _apply(step, nodes)
            return nodes

        compiled.append(walk)
    return lambda node: [found for walk in compiled for found in walk(node)]


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
