"""Expanding ``ValueSet.compose`` into the set of codes it contains.

https://hl7.org/fhir/R4/valueset.html#compose
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .codesystem import CodeSystemConcepts

__all__ = ["NotExpandable", "expand_compose"]

Codes = set[tuple[str, str]]


class NotExpandable(Exception):
    """The ValueSet depends on content that is not available locally."""


def expand_compose(
    value_set: dict[str, Any],
    code_system: Callable[[str], CodeSystemConcepts | None],
    value_set_codes: Callable[[str], frozenset[tuple[str, str]] | None],
) -> Codes:
    """The ``(system, code)`` pairs of ``value_set``: its compose includes minus its
    excludes, or its stored expansion when it has no compose."""
    compose = value_set.get("compose")
    if compose is None:
        if "expansion" in value_set:
            return _expansion_contains(value_set["expansion"].get("contains", []))
        raise NotExpandable(f"ValueSet {value_set.get('url')} has neither compose nor expansion")
    codes: Codes = set()
    for include in compose.get("include", []):
        codes |= _included(include, code_system, value_set_codes)
    for exclude in compose.get("exclude", []):
        codes -= _included(exclude, code_system, value_set_codes)
    return codes


def _expansion_contains(contains: list[dict[str, Any]]) -> Codes:
    codes: Codes = set()
    for item in contains:
        if "code" in item and "system" in item:
            codes.add((item["system"], item["code"]))
        codes |= _expansion_contains(item.get("contains", []))
    return codes


def _included(
    include: dict[str, Any],
    code_system: Callable[[str], CodeSystemConcepts | None],
    value_set_codes: Callable[[str], frozenset[tuple[str, str]] | None],
) -> Codes:
    parts: list[Codes] = []
    system = include.get("system")
    if system is not None:
        parts.append(_system_codes(system, include, code_system))
    for url in include.get("valueSet", []):
        codes = value_set_codes(url)
        if codes is None:
            raise NotExpandable(f"ValueSet {url} cannot be expanded")
        parts.append(set(codes))
    if not parts:
        return set()
    return set.intersection(*parts)


def _system_codes(
    system: str,
    include: dict[str, Any],
    code_system: Callable[[str], CodeSystemConcepts | None],
) -> Codes:
    if "concept" in include:
        return {(system, concept["code"]) for concept in include["concept"]}
    concepts = code_system(system)
    if concepts is None or not concepts.complete:
        raise NotExpandable(f"CodeSystem {system} is not available in full")
    selected = set(concepts.concepts)
    for rule in include.get("filter", []):
        selected &= _filtered(concepts, rule)
    return {(system, code) for code in selected}


def _filtered(concepts: CodeSystemConcepts, rule: dict[str, Any]) -> set[str]:
    """The codes matching one ``compose.include.filter``."""
    op, value, prop = rule.get("op"), rule.get("value", ""), rule.get("property")
    if op in ("is-a", "descendent-of", "is-not-a") and prop == "concept":
        below = concepts.descendants(value)
        if op == "descendent-of":
            return below
        subsumed = below | ({value} if value in concepts.concepts else set())
        return subsumed if op == "is-a" else set(concepts.concepts) - subsumed
    if op == "in" and prop == "concept":
        return set(value.split(",")) & set(concepts.concepts)
    if op == "regex" and prop == "code":
        pattern = re.compile(value)
        return {code for code in concepts.concepts if pattern.fullmatch(code)}
    if op == "=" and prop:
        return {code for code in concepts.concepts
                if value in concepts.property_values(code, prop)}
    raise NotExpandable(f"filter {prop} {op} {value} is not supported locally")
