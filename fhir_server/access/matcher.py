"""Consent conditions on the search index stored with every resource.

The search index (``search.*``, written with each resource by the search engine) already
holds, uniformly for every resource type, what most consent conditions look at: patient
compartments (``search._compartments``, indexed), codes (token entries of the ``code`` and
``vaccine-code`` parameters), security labels (``_security`` tokens) and clinical dates
(the ranges of the ``date``, ``onset-date``, ``authoredon`` and ``occurrence``
parameters; a date counts by its start), so their filters need no per-type branches. A
single resource is decided on the index the search engine computes for it, the very data
the filter reads, so decisions and searches agree. References (``data`` dependents,
authoredby) are matched on the resource's elements (:class:`consent.PathMatcher`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from consent import PathMatcher
from consent.codes import Code
from consent.expressions import (
    CodeIn,
    DateIn,
    Expression,
    InstanceIn,
    LabelIn,
    OfPatients,
    OnlyPatients,
    ProfileIn,
    RefersTo,
    TypeIn,
)
from consent.paths import instance_filter

from .compartment import referenced_patients

__all__ = ["IndexMatcher", "DATE_PARAMETERS", "CODE_PARAMETERS"]

CODE_PARAMETERS = ("code", "vaccine-code")
DATE_PARAMETERS = ("date", "onset-date", "authoredon", "occurrence")
_COMPARTMENTS = "_compartments"


def _day(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _tokens(codes: frozenset[Code], field: str) -> dict[str, Any]:
    with_system = sorted(f"{s}|{c}" for s, c in codes if s is not None)
    without = sorted(c for s, c in codes if s is None)
    clauses = ([{f"{field}.sc": {"$in": with_system}}] if with_system else []) + (
        [{f"{field}.c": {"$in": without}}] if without else [])
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def _has_token(entries: Any, codes: frozenset[Code]) -> bool:
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and any(
                c == entry.get("c") and (s is None or f"{s}|{c}" == entry.get("sc"))
                for s, c in codes):
            return True
    return False


def _in_range(entries: Any, low: datetime | None, high: datetime | None) -> bool:
    for entry in entries if isinstance(entries, list) else []:
        start = entry.get("s") if isinstance(entry, dict) else None
        if isinstance(start, datetime) and (low is None or start >= low) and (
                high is None or start < high):
            return True
    return False


class IndexMatcher:
    """:class:`consent.expressions.Matcher` over documents ``{resource, search}``."""

    def __init__(self, base: str, paths: PathMatcher,
                 indexer: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.base = base
        self.paths = paths
        self.indexer = indexer
        self._last: tuple[dict[str, Any], dict[str, Any]] | None = None

    def _index(self, resource: dict[str, Any]) -> dict[str, Any]:
        """The resource's search index (the last one is kept: a decision asks several
        conditions of the same resource in a row)."""
        if self._last is None or self._last[0] is not resource:
            self._last = (resource, self.indexer(resource))
        return self._last[1]

    def patients(self, resource: dict[str, Any]) -> set[str]:
        return referenced_patients(resource, self.base)

    def holds(self, atom: Expression, resource: dict[str, Any]) -> bool:
        match atom:
            case CodeIn(codes):
                index = self._index(resource)
                return any(_has_token(index.get(p), codes) for p in CODE_PARAMETERS)
            case LabelIn(labels):
                return _has_token(self._index(resource).get("_security"), labels)
            case DateIn(low, high):
                index = self._index(resource)
                return any(_in_range(index.get(p), _day(low), _day(high))
                           for p in DATE_PARAMETERS)
            case OfPatients(patients):
                return bool(self.patients(resource) & patients)
            case OnlyPatients(patients):
                return self.patients(resource) <= patients
            case TypeIn() | ProfileIn() | InstanceIn() | RefersTo():
                return self.paths.holds(atom, resource)
        raise TypeError(f"not a condition: {atom!r}")

    def negated_filter(self, atom: Expression) -> dict[str, Any] | None:
        match atom:
            case OfPatients(patients):
                return {f"search.{_COMPARTMENTS}": {"$nin": sorted(
                    f"Patient/{p}" for p in patients)}}
            case CodeIn(codes) if all(system is not None for system, _ in codes):
                wanted = sorted(f"{s}|{c}" for s, c in codes)
                return {f"search.{p}.sc": {"$nin": wanted} for p in CODE_PARAMETERS}
            case LabelIn(labels) if all(system is not None for system, _ in labels):
                return {"search._security.sc": {"$nin": sorted(f"{s}|{c}" for s, c in labels)}}
            case DateIn(low, high):
                return {f"search.{p}": {"$not": {"$elemMatch": {"s": self._bounds(low, high)}}}
                        for p in DATE_PARAMETERS}
        return self.paths.negated_filter(atom)

    @staticmethod
    def _bounds(low: str | None, high: str | None) -> dict[str, datetime]:
        return {k: v for k, v in (("$gte", _day(low)), ("$lt", _day(high))) if v is not None}

    def filter(self, atom: Expression) -> dict[str, Any]:
        match atom:
            case CodeIn(codes):
                clauses = [_tokens(codes, f"search.{p}") for p in CODE_PARAMETERS]
                return {"$or": clauses}
            case LabelIn(labels):
                return _tokens(labels, "search._security")
            case DateIn(low, high):
                return {"$or": [{f"search.{p}": {"$elemMatch": {"s": self._bounds(low, high)}}}
                                for p in DATE_PARAMETERS]}
            case OfPatients(patients):
                return {f"search.{_COMPARTMENTS}": {"$in": sorted(
                    f"Patient/{p}" for p in patients)}}
            case OnlyPatients(patients):
                ids = "|".join(re.escape(p) for p in sorted(patients))
                other = re.compile(rf"^Patient/(?!({ids})$)" if patients else r"^Patient/")
                return {f"search.{_COMPARTMENTS}": {"$not": other}}
            case InstanceIn(references):
                return instance_filter(references, "_id")
            case TypeIn() | ProfileIn() | RefersTo():
                return self.paths.filter(atom)
        raise TypeError(f"not a condition: {atom!r}")
