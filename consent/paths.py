"""Conditions decided on the resource's own elements (:class:`PathMatcher`).

``tables[kind]`` maps resource types to dotted element paths:

* ``patient``: the References that put a resource in a patient's compartment;
* ``code``: the CodeableConcepts ``provision.code`` is matched against;
* ``date``: the clinical date strings ``provision.dataPeriod`` is matched against;
* ``reference``: every Reference (``data.meaning = dependents``);
* ``author``: the References naming who wrote it (``data.meaning = authoredby``).

Filters address the stored document's ``resource`` and branch on the resource type, so
one filter serves every collection. Walking a path goes through arrays at any depth, as a
MongoDB dotted path does. The server decides most conditions on its search index instead
(faster to query); it uses this matcher for references.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .codes import Code, any_match, codings
from .expressions import (
    MATCH_NOTHING,
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

__all__ = ["PathMatcher", "values_at", "KINDS", "coding_filter", "instance_filter"]

KINDS = ("patient", "code", "date", "reference", "author")
_TYPE = "resource.resourceType"
_PATIENT = re.compile(r"(?:^|/)Patient/([^/]+)(?:/_history/[^/]*)?$")


def values_at(node: Any, path: str) -> Iterator[Any]:
    """The values at a dotted path, arrays flattened at every step."""
    yield from _walk(node, path.split(".") if path else [])


def _walk(node: Any, steps: list[str]) -> Iterator[Any]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, steps)
        return
    if not steps:
        yield node
        return
    if isinstance(node, dict) and steps[0] in node:
        yield from _walk(node[steps[0]], steps[1:])


def coding_filter(field: str, codes: frozenset[Code]) -> dict[str, Any]:
    """Some Coding in the array at ``field`` is one of ``codes`` (one ``$elemMatch`` per
    code: SecantusDB has no ``$or`` inside ``$elemMatch``)."""
    options = [{field: {"$elemMatch": {"code": c} if s is None else {"system": s, "code": c}}}
               for s, c in sorted(codes, key=lambda code: (code[0] or "", code[1]))]
    return options[0] if len(options) == 1 else {"$or": options}


def instance_filter(references: frozenset[str], id_field: str) -> dict[str, Any]:
    by_type: dict[str, list[str]] = {}
    for reference in sorted(references):
        resource_type, _, rid = reference.partition("/")
        by_type.setdefault(resource_type, []).append(rid)
    clauses = [{_TYPE: t, id_field: {"$in": ids}} for t, ids in sorted(by_type.items())]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def _ids_pattern(patients: frozenset[str]) -> str:
    return "|".join(re.escape(p) for p in sorted(patients))


def _patient_pattern(patients: frozenset[str]) -> re.Pattern[str]:
    return re.compile(rf"(^|/)Patient/({_ids_pattern(patients)})(/_history/[^/]*)?$")


def _other_patient_pattern(patients: frozenset[str]) -> re.Pattern[str]:
    if not patients:
        return re.compile(r"(^|/)Patient/[^/]")
    return re.compile(rf"(^|/)Patient/(?!({_ids_pattern(patients)})(/_history/[^/]*)?$)[^/]")


class PathMatcher:
    """Conditions on the resource JSON, by per-type element paths."""

    def __init__(self, base: str, tables: Mapping[str, Mapping[str, tuple[str, ...]]]) -> None:
        self.base = base
        self._tables = {kind: dict(tables.get(kind, {})) for kind in KINDS}

    def paths(self, kind: str) -> Mapping[str, tuple[str, ...]]:
        return self._tables[kind]

    def _references(self, resource: dict[str, Any], kind: str) -> list[str]:
        paths = self._tables[kind].get(str(resource.get("resourceType")), ())
        return [ref["reference"] for path in paths for ref in values_at(resource, path)
                if isinstance(ref, dict) and isinstance(ref.get("reference"), str)]

    def _forms(self, references: frozenset[str]) -> set[str]:
        return set(references) | {f"{self.base}/{r}" for r in references}

    def patients(self, resource: dict[str, Any]) -> set[str]:
        found = set()
        if resource.get("resourceType") == "Patient" and isinstance(resource.get("id"), str):
            found.add(resource["id"])
        for value in self._references(resource, "patient"):
            match = _PATIENT.search(value)
            if match:
                found.add(match.group(1))
        return found

    def holds(self, atom: Expression, resource: dict[str, Any]) -> bool:
        rtype = str(resource.get("resourceType"))
        meta = resource.get("meta") if isinstance(resource.get("meta"), dict) else {}
        match atom:
            case TypeIn(types):
                return rtype in types
            case ProfileIn(profiles):
                return any(p in profiles for p in meta.get("profile") or [])
            case LabelIn(labels):
                return any_match(labels, codings(meta.get("security") or []))
            case CodeIn(codes):
                return any(any_match(codes, codings(value))
                           for path in self._tables["code"].get(rtype, ())
                           for value in values_at(resource, path))
            case DateIn(low, high):
                return any(isinstance(v, str) and (low is None or v >= low)
                           and (high is None or v < high)
                           for path in self._tables["date"].get(rtype, ())
                           for v in values_at(resource, path))
            case InstanceIn(references):
                return f"{rtype}/{resource.get('id')}" in references
            case RefersTo(kind, references):
                wanted = self._forms(references)
                return any(r in wanted for r in self._references(resource, kind))
            case OfPatients(patients):
                return bool(self.patients(resource) & patients)
            case OnlyPatients(patients):
                return self.patients(resource) <= patients
        raise TypeError(f"not a condition: {atom!r}")

    def _typed(self, kind: str, clause: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        """Per resource type, some ``kind`` path satisfies ``clause`` (types grouped by
        their path lists, so the filter stays small)."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for resource_type, found in self._tables[kind].items():
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

    def negated_filter(self, atom: Expression) -> dict[str, Any] | None:
        match atom:
            case TypeIn(types):
                return {_TYPE: {"$nin": sorted(types)}}
            case ProfileIn(profiles):
                return {"resource.meta.profile": {"$nin": sorted(profiles)}}
        return None

    def filter(self, atom: Expression) -> dict[str, Any]:
        match atom:
            case TypeIn(types):
                return {_TYPE: {"$in": sorted(types)}}
            case ProfileIn(profiles):
                return {"resource.meta.profile": {"$in": sorted(profiles)}}
            case LabelIn(labels):
                return coding_filter("resource.meta.security", labels)
            case CodeIn(codes):
                return self._typed("code", lambda path: coding_filter(
                    f"resource.{path}.coding", codes))
            case DateIn(low, high):
                bounds = {k: v for k, v in (("$gte", low), ("$lt", high)) if v is not None}
                return self._typed("date", lambda path: {f"resource.{path}": bounds})
            case InstanceIn(references):
                return instance_filter(references, "resource.id")
            case RefersTo(kind, references):
                wanted = sorted(self._forms(references))
                return self._typed(kind, lambda path: {
                    f"resource.{path}.reference": {"$in": wanted}})
            case OfPatients(patients):
                pattern = _patient_pattern(patients)
                exact = sorted(f"Patient/{p}" for p in patients)
                return {"$or": [
                    {_TYPE: "Patient", "resource.id": {"$in": sorted(patients)}},
                    self._typed("patient", lambda path: {
                        f"resource.{path}.reference": {"$in": [*exact, pattern]}})]}
            case OnlyPatients(patients):
                pattern = _other_patient_pattern(patients)
                return {"$nor": [
                    {_TYPE: "Patient", "resource.id": {"$nin": sorted(patients)}},
                    self._typed("patient", lambda path: {
                        f"resource.{path}.reference": pattern})]}
        raise TypeError(f"not a condition: {atom!r}")
