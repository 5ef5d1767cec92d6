"""Conditions on one resource, decided in Python or compiled to a MongoDB filter.

A consent decision for a given request (actor, purpose, action already settled) is a
boolean expression over the resource: its type, profiles, security labels, codes, clinical
date, identity, references and patients. The same expression is evaluated on one resource
(read, vread, ``$consent-explain``, masking) and compiled to a MongoDB filter for searches
(ANDed into the query); a :class:`Matcher` decides and compiles each condition the same
way, so both always agree. One filter serves documents of every resource type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .codes import Code

__all__ = [
    "Expression", "Constant", "TRUE", "FALSE", "AllOf", "AnyOf", "Negation",
    "TypeIn", "ProfileIn", "LabelIn", "CodeIn", "DateIn", "InstanceIn", "RefersTo",
    "OfPatients", "OnlyPatients", "all_of", "any_of", "negate", "evaluate", "to_filter",
    "Matcher", "MATCH_NOTHING",
]

MATCH_NOTHING: dict[str, Any] = {"_id": {"$in": []}}


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
    """A clinical date of the resource is on a day in ``[low, high)`` (``YYYY-MM-DD``)."""

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


class Matcher(Protocol):
    """How conditions on one resource are decided and queried in a given store: the
    server's keeps them on its search index, :class:`consent.paths.PathMatcher` on the
    resource's own elements."""

    base: str

    def patients(self, resource: dict[str, Any]) -> set[str]:
        """Ids of the patients whose compartment holds the resource."""

    def holds(self, atom: Expression, resource: dict[str, Any]) -> bool:
        """Whether a condition (not And/Or/Not) holds for the resource."""

    def filter(self, atom: Expression) -> dict[str, Any]:
        """The MongoDB filter for a condition (not And/Or/Not)."""

    def negated_filter(self, atom: Expression) -> dict[str, Any] | None:
        """A filter for the condition's negation made of field operators only (``$nin``),
        or None to use ``$nor``."""


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
    """The negation, pushed down to the conditions (De Morgan), so that it compiles to
    field operators (``$nin``) where a store allows."""
    if isinstance(part, Constant):
        return Constant(not part.value)
    if isinstance(part, Negation):
        return part.part
    if isinstance(part, AllOf):
        return any_of(*(negate(p) for p in part.parts))
    if isinstance(part, AnyOf):
        return all_of(*(negate(p) for p in part.parts))
    return Negation(part)


# -- evaluation and compilation ---------------------------------------------------------

def evaluate(expression: Expression, resource: dict[str, Any], matcher: Matcher) -> bool:
    """Whether the expression holds for one resource."""
    match expression:
        case Constant(value):
            return value
        case AllOf(parts):
            return all(evaluate(p, resource, matcher) for p in parts)
        case AnyOf(parts):
            return any(evaluate(p, resource, matcher) for p in parts)
        case Negation(part):
            return not evaluate(part, resource, matcher)
    return matcher.holds(expression, resource)


def _and(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    """AND of filters, flat where keys do not collide (a flat filter lets the query
    planner use an index for the search's own conditions)."""
    flat: dict[str, Any] = {}
    rest: list[dict[str, Any]] = []
    for clause in clauses:
        if clause == MATCH_NOTHING:
            return MATCH_NOTHING
        if flat.keys() & clause.keys():
            rest.append(clause)
        else:
            flat.update(clause)
    if rest:
        flat["$and"] = [*flat.get("$and", []), *rest]
    return flat


def _or(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    clauses = [c for c in clauses if c != MATCH_NOTHING]
    if not clauses:
        return MATCH_NOTHING
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def to_filter(expression: Expression, matcher: Matcher) -> dict[str, Any]:
    """The MongoDB filter (on stored documents) for an expression."""
    match expression:
        case Constant(True):
            return {}
        case Constant(False):
            return MATCH_NOTHING
        case AllOf(parts):
            return _and([to_filter(p, matcher) for p in parts])
        case AnyOf(parts):
            return _or([to_filter(p, matcher) for p in parts])
        case Negation(part):
            if not isinstance(part, (AllOf, AnyOf)):
                flat = matcher.negated_filter(part)
                if flat is not None:
                    return flat
            return {"$nor": [to_filter(part, matcher)]}
    return matcher.filter(expression)
