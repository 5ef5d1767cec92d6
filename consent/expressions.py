"""Conditions on one resource, decided in Python or compiled to a MongoDB filter.

A consent decision for a given request (actor, purpose, action already settled) is a
boolean expression over the resource: its type, profiles, security labels, codes, clinical
date, identity, references and patients. The same expression is evaluated on one resource
(read, vread, ``$consent-explain``, masking) and compiled to a MongoDB filter for searches
(ANDed into the query), so both always agree. Filters address the stored document
(``resource.*``), so they work on any resource type's collection and on ``history``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .codes import Code, any_match, codings
from .paths import ResourcePaths, values_at

__all__ = [
    "Expression", "Constant", "TRUE", "FALSE", "AllOf", "AnyOf", "Negation",
    "TypeIn", "ProfileIn", "LabelIn", "CodeIn", "DateIn", "InstanceIn", "RefersTo",
    "OfPatients", "OnlyPatients", "all_of", "any_of", "negate", "evaluate", "to_filter",
    "patients_of", "MATCH_NOTHING",
]

MATCH_NOTHING: dict[str, Any] = {"_id": {"$in": []}}
_TYPE = "resource.resourceType"
_ID = "resource.id"


class Expression:
    """Base of the expression nodes (frozen dataclasses, so equal trees compare equal)."""


@dataclass(frozen=True)
class Constant(Expression):
    value: bool


TRUE, FALSE = Constant(True), Constant(False)


@dataclass(frozen=True)
class AllOf(Expression):
    parts: tuple[Expression, ...]


@dataclass(frozen=True)
class AnyOf(Expression):
    parts: tuple[Expression, ...]


@dataclass(frozen=True)
class Negation(Expression):
    part: Expression


@dataclass(frozen=True)
class TypeIn(Expression):
    types: frozenset[str]


@dataclass(frozen=True)
class ProfileIn(Expression):
    profiles: frozenset[str]


@dataclass(frozen=True)
class LabelIn(Expression):
    """Some ``meta.security`` label is one of ``labels``."""

    labels: frozenset[Code]


@dataclass(frozen=True)
class CodeIn(Expression):
    """The resource's code (``code`` paths) has one of ``codes``."""

    codes: frozenset[Code]


@dataclass(frozen=True)
class DateIn(Expression):
    """The resource's clinical date (``date`` paths) is in ``[low, high)`` as a string."""

    low: str | None
    high: str | None


@dataclass(frozen=True)
class InstanceIn(Expression):
    """The resource is one of ``references`` (``Type/id``)."""

    references: frozenset[str]


@dataclass(frozen=True)
class RefersTo(Expression):
    """A Reference at the ``kind`` paths (``reference`` or ``author``) names one of
    ``references``."""

    kind: str
    references: frozenset[str]


@dataclass(frozen=True)
class OfPatients(Expression):
    """The resource is in the compartment of one of ``patients`` (ids)."""

    patients: frozenset[str]


@dataclass(frozen=True)
class OnlyPatients(Expression):
    """The resource is in no compartment but those of ``patients`` (ids)."""

    patients: frozenset[str]


def _flatten(kind: type, parts: tuple[Expression, ...]) -> list[Expression]:
    flat: list[Expression] = []
    for part in parts:
        for item in part.parts if isinstance(part, kind) else (part,):  # type: ignore[attr-defined]
            if item not in flat:
                flat.append(item)
    return flat


def all_of(*parts: Expression) -> Expression:
    flat = [p for p in _flatten(AllOf, parts) if p != TRUE]
    if FALSE in flat:
        return FALSE
    return TRUE if not flat else flat[0] if len(flat) == 1 else AllOf(tuple(flat))


def any_of(*parts: Expression) -> Expression:
    flat = [p for p in _flatten(AnyOf, parts) if p != FALSE]
    if TRUE in flat:
        return TRUE
    return FALSE if not flat else flat[0] if len(flat) == 1 else AnyOf(tuple(flat))


def negate(part: Expression) -> Expression:
    if isinstance(part, Constant):
        return Constant(not part.value)
    if isinstance(part, Negation):
        return part.part
    return Negation(part)


# -- patient references ---------------------------------------------------------------

def _ids_pattern(patients: frozenset[str]) -> str:
    return "|".join(re.escape(p) for p in sorted(patients))


def _patient_pattern(patients: frozenset[str]) -> re.Pattern[str]:
    """A reference to one of these patients (relative, absolute or versioned)."""
    return re.compile(rf"(^|/)Patient/({_ids_pattern(patients)})(/_history/[^/]*)?$")


def _other_patient_pattern(patients: frozenset[str]) -> re.Pattern[str]:
    """A reference to any patient but these."""
    if not patients:
        return re.compile(r"(^|/)Patient/[^/]")
    return re.compile(rf"(^|/)Patient/(?!({_ids_pattern(patients)})(/_history/[^/]*)?$)[^/]")


def _references(resource: dict[str, Any], paths: tuple[str, ...]) -> list[str]:
    return [ref["reference"] for path in paths for ref in values_at(resource, path)
            if isinstance(ref, dict) and isinstance(ref.get("reference"), str)]


def patients_of(resource: dict[str, Any], paths: ResourcePaths) -> set[str]:
    """Ids of the patients whose compartment holds a resource (relative, absolute or
    versioned references, as :class:`OfPatients` reads them)."""
    found: set[str] = set()
    if resource.get("resourceType") == "Patient" and isinstance(resource.get("id"), str):
        found.add(resource["id"])
    pattern = re.compile(r"(?:^|/)Patient/([^/]+)(?:/_history/[^/]*)?$")
    for value in _references(resource, paths.paths("patient").get(
            str(resource.get("resourceType")), ())):
        match = pattern.search(value)
        if match:
            found.add(match.group(1))
    return found


# -- evaluation -------------------------------------------------------------------------

def _forms(references: frozenset[str], base: str) -> set[str]:
    return set(references) | {f"{base}/{r}" for r in references}


def evaluate(expression: Expression, resource: dict[str, Any], paths: ResourcePaths) -> bool:
    """Whether the expression holds for one resource."""
    rtype = str(resource.get("resourceType"))
    meta = resource.get("meta") if isinstance(resource.get("meta"), dict) else {}
    match expression:
        case Constant(value):
            return value
        case AllOf(parts):
            return all(evaluate(p, resource, paths) for p in parts)
        case AnyOf(parts):
            return any(evaluate(p, resource, paths) for p in parts)
        case Negation(part):
            return not evaluate(part, resource, paths)
        case TypeIn(types):
            return rtype in types
        case ProfileIn(profiles):
            return any(p in profiles for p in meta.get("profile") or [] if isinstance(p, str))
        case LabelIn(labels):
            return any_match(labels, codings(meta.get("security") or []))
        case CodeIn(codes):
            return any(any_match(codes, codings(value))
                       for path in paths.paths("code").get(rtype, ())
                       for value in values_at(resource, path))
        case DateIn(low, high):
            return any(isinstance(v, str) and (low is None or v >= low)
                       and (high is None or v < high)
                       for path in paths.paths("date").get(rtype, ())
                       for v in values_at(resource, path))
        case InstanceIn(references):
            return f"{rtype}/{resource.get('id')}" in references
        case RefersTo(kind, references):
            wanted = _forms(references, paths.base)
            return any(r in wanted for r in _references(
                resource, paths.paths(kind).get(rtype, ())))
        case OfPatients(patients):
            if rtype == "Patient" and resource.get("id") in patients:
                return True
            pattern = _patient_pattern(patients)
            return any(pattern.search(r) for r in _references(
                resource, paths.paths("patient").get(rtype, ())))
        case OnlyPatients(patients):
            if rtype == "Patient" and resource.get("id") not in patients:
                return False
            pattern = _other_patient_pattern(patients)
            return not any(pattern.search(r) for r in _references(
                resource, paths.paths("patient").get(rtype, ())))
    raise TypeError(f"not a consent expression: {expression!r}")


# -- MongoDB filters --------------------------------------------------------------------

def _coding_match(field: str, codes: frozenset[Code]) -> dict[str, Any]:
    """Some Coding in the array at ``field`` is one of ``codes`` (one ``$elemMatch`` per
    code: SecantusDB has no ``$or`` inside ``$elemMatch``)."""
    options = [{field: {"$elemMatch": {"code": c} if s is None else {"system": s, "code": c}}}
               for s, c in sorted(codes, key=lambda code: (code[0] or "", code[1]))]
    return options[0] if len(options) == 1 else {"$or": options}


def _typed(paths: ResourcePaths, kind: str,
           clause: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Per resource type, some ``kind`` path satisfies ``clause`` (types grouped by their
    path lists, so the filter stays small)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for resource_type, found in paths.paths(kind).items():
        if found:
            groups.setdefault(tuple(found), []).append(resource_type)
    options = []
    for found, types in sorted(groups.items(), key=lambda item: sorted(item[1])):
        per_path = [clause(path) for path in found]
        condition = per_path[0] if len(per_path) == 1 else {"$or": per_path}
        type_clause = types[0] if len(types) == 1 else {"$in": sorted(types)}
        options.append({"$and": [{_TYPE: type_clause}, condition]})
    if not options:
        return MATCH_NOTHING
    return options[0] if len(options) == 1 else {"$or": options}


def _or(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    clauses = [c for c in clauses if c != MATCH_NOTHING]
    if not clauses:
        return MATCH_NOTHING
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def to_filter(expression: Expression, paths: ResourcePaths) -> dict[str, Any]:
    """The MongoDB filter (on stored documents ``{resource: ...}``) for an expression."""
    base = paths.base
    match expression:
        case Constant(True):
            return {}
        case Constant(False):
            return MATCH_NOTHING
        case AllOf(parts):
            return {"$and": [to_filter(p, paths) for p in parts]}
        case AnyOf(parts):
            return _or([to_filter(p, paths) for p in parts])
        case Negation(part):
            return {"$nor": [to_filter(part, paths)]}
        case TypeIn(types):
            return {_TYPE: {"$in": sorted(types)}}
        case ProfileIn(profiles):
            return {"resource.meta.profile": {"$in": sorted(profiles)}}
        case LabelIn(labels):
            return _coding_match("resource.meta.security", labels)
        case CodeIn(codes):
            return _typed(paths, "code",
                          lambda path: _coding_match(f"resource.{path}.coding", codes))
        case DateIn(low, high):
            bounds = {k: v for k, v in (("$gte", low), ("$lt", high)) if v is not None}
            bounds = bounds or {"$type": "string"}
            return _typed(paths, "date", lambda path: {f"resource.{path}": bounds})
        case InstanceIn(references):
            by_type: dict[str, list[str]] = {}
            for reference in sorted(references):
                resource_type, _, rid = reference.partition("/")
                by_type.setdefault(resource_type, []).append(rid)
            return _or([{_TYPE: t, _ID: {"$in": ids}} for t, ids in sorted(by_type.items())])
        case RefersTo(kind, references):
            wanted = sorted(_forms(references, base))
            return _typed(paths, kind,
                          lambda path: {f"resource.{path}.reference": {"$in": wanted}})
        case OfPatients(patients):
            pattern = _patient_pattern(patients)
            exact = sorted(f"Patient/{p}" for p in patients)
            return _or([
                {_TYPE: "Patient", _ID: {"$in": sorted(patients)}},
                _typed(paths, "patient", lambda path: {
                    f"resource.{path}.reference": {"$in": [*exact, pattern]}}),
            ])
        case OnlyPatients(patients):
            pattern = _other_patient_pattern(patients)
            outside = _or([
                {_TYPE: "Patient", _ID: {"$nin": sorted(patients)}},
                _typed(paths, "patient",
                       lambda path: {f"resource.{path}.reference": pattern}),
            ])
            return {"$nor": [outside]}
    raise TypeError(f"not a consent expression: {expression!r}")
