"""Parsing search parameters into a storage-neutral :class:`SearchQuery`.

Every value is parsed and every parameter and modifier checked here, before any database
work, so a bad request fails with 400 and an OperationOutcome naming the parameter (or, in
lenient handling, the unknown parameter is dropped and left out of the ``self`` link).
Comma is OR, a repeated parameter is AND (https://hl7.org/fhir/R4/search.html#combining).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from profiles.definitions import resource_types

from ..errors import InvalidRequest
from .definitions import Registry, SearchParameter
from .parameters import IndexContext, split_escaped, unescape
from .problems import UnknownParameter, unknown_modifier, unknown_parameter
from .results import ResultParameters, parse_result_parameter

__all__ = ["Clause", "Chain", "Has", "SearchQuery", "parse_query", "RESULT_PARAMETERS"]

RESULT_PARAMETERS = frozenset({
    "_count", "_sort", "_include", "_revinclude", "_summary", "_elements", "_total",
    "_contained", "_containedType", "_cursor", "_type", "_format", "_pretty", "_totalMethod",
})
_MAX_CHAIN = 4
_MAX_VALUES = 1000


@dataclass(frozen=True)
class Chain:
    """``subject:Patient.name=x``: references to targets that match ``inner``."""

    targets: dict[str, Clause]  # target type -> the rest of the chain on that type


@dataclass(frozen=True)
class Has:
    """``_has:Observation:patient:code=x``: referenced by a source that matches ``inner``."""

    source_type: str
    reference: SearchParameter
    inner: Clause


@dataclass(frozen=True)
class Clause:
    """One parameter of a search on one resource type (its values are ORed)."""

    parameter: SearchParameter | None  # None for _has
    modifier: str | None = None
    values: tuple[Any, ...] = ()
    missing: bool | None = None
    chain: Chain | None = None
    has: Has | None = None


@dataclass
class SearchQuery:
    resource_types: list[str]
    clauses: dict[str, list[Clause]]  # per resource type, ANDed
    results: ResultParameters
    applied: list[tuple[str, str]] = field(default_factory=list)  # for the self link
    ignored: list[str] = field(default_factory=list)


class _Parser:
    def __init__(self, registry: Registry, context: IndexContext) -> None:
        self.registry = registry
        self.context = context

    def clause(self, resource_type: str, name: str, raw: str, depth: int = 0) -> Clause:
        if depth > _MAX_CHAIN:
            raise InvalidRequest(f"Chain '{name[:200]}' is deeper than {_MAX_CHAIN} levels")
        if name.startswith("_has:"):
            return self._has(resource_type, name, raw, depth)
        head, dot, rest = name.partition(".")
        code, _, modifier = head.partition(":")
        parameter = self.registry.get(resource_type, code)
        if parameter is None or not parameter.supported:
            raise unknown_parameter(resource_type, code, self.registry)
        if dot:
            return self._chain(resource_type, parameter, modifier or None, rest, raw, depth)
        return self._simple(resource_type, parameter, modifier or None, raw)

    def _simple(self, resource_type: str, parameter: SearchParameter, modifier: str | None,
                raw: str) -> Clause:
        if modifier == "missing":
            if raw not in ("true", "false"):
                raise InvalidRequest(f"{parameter.code}:missing takes true or false")
            return Clause(parameter, modifier, missing=raw == "true")
        handler = self.registry.handler(resource_type, parameter)
        valid = set(handler.modifiers) | {"missing"}
        if parameter.type == "reference":
            valid |= set(parameter.target or resource_types())
        if parameter.code == "_id":
            valid = {"missing", "not"}
        if modifier is not None and modifier not in valid:
            raise unknown_modifier(parameter, modifier, sorted(valid))
        parts = [p for p in split_escaped(raw, ",") if p != ""]
        if len(parts) > _MAX_VALUES:
            raise InvalidRequest(f"Too many values for {parameter.code}")
        if parameter.code == "_id":
            return Clause(parameter, modifier, tuple(unescape(p) for p in parts))
        values = tuple(handler.parse(p, modifier, parameter, self.context) for p in parts)
        return Clause(parameter, modifier, values)

    def _chain(self, resource_type: str, parameter: SearchParameter, modifier: str | None,
               rest: str, raw: str, depth: int) -> Clause:
        if parameter.type != "reference":
            raise InvalidRequest(f"Search parameter '{parameter.code}' of {resource_type} is "
                                 f"not a reference and cannot be chained")
        if modifier is not None and modifier not in resource_types():
            raise unknown_modifier(parameter, modifier, list(parameter.target))
        candidates = [modifier] if modifier else list(parameter.target)
        next_code = rest.partition(".")[0].partition(":")[0]
        targets: dict[str, Clause] = {}
        for target in candidates:
            if next_code == "_has" or self.registry.get(target, next_code) is not None:
                targets[target] = self.clause(target, rest, raw, depth + 1)
        if not targets:
            raise unknown_parameter(candidates[0] if candidates else resource_type, next_code,
                           self.registry)
        return Clause(parameter, modifier, chain=Chain(targets))

    def _has(self, resource_type: str, name: str, raw: str, depth: int) -> Clause:
        parts = name.split(":", 3)
        if len(parts) != 4 or not all(parts):
            raise InvalidRequest(f"Invalid _has parameter '{name[:200]}': use "
                                 "_has:[type]:[reference parameter]:[parameter]")
        _, source_type, code, rest = parts
        if source_type not in resource_types():
            raise InvalidRequest(f"Unknown resource type '{source_type[:80]}' in _has")
        reference = self.registry.get(source_type, code)
        if reference is None or reference.type != "reference":
            raise InvalidRequest(f"'{code[:80]}' is not a reference parameter of {source_type}")
        if reference.target and resource_type not in reference.target:
            raise InvalidRequest(f"{source_type}.{code} never refers to a {resource_type}")
        inner = self.clause(source_type, rest, raw, depth + 1)
        return Clause(None, has=Has(source_type, reference, inner))


def parse_query(
    registry: Registry,
    types: list[str],
    params: list[tuple[str, str]],
    context: IndexContext,
    *,
    lenient: bool,
    max_count: int,
    default_count: int,
) -> SearchQuery:
    """Parse and check a search's parameters for the given resource types."""
    parser = _Parser(registry, context)
    results = ResultParameters(count=default_count)
    query = SearchQuery(types, {t: [] for t in types}, results)
    for name, raw in params:
        base = name.partition(":")[0]
        if base in RESULT_PARAMETERS:
            try:
                kept = parse_result_parameter(results, name, raw, registry, types, max_count)
            except UnknownParameter:
                if not lenient:
                    raise
                query.ignored.append(name)
                continue
            if kept:
                query.applied.append((name, raw))
            continue
        if raw == "":
            continue
        try:
            clauses = [parser.clause(t, name, raw) for t in types]
        except UnknownParameter:
            if not lenient:
                raise
            query.ignored.append(name)
            continue
        for resource_type, clause in zip(types, clauses, strict=True):
            query.clauses[resource_type].append(clause)
        query.applied.append((name, raw))
    return query
