"""Compiling parsed clauses into MongoDB filters.

Simple clauses become conditions on ``search.<code>`` through their parameter type.
Chains (``subject:Patient.name=x``) and reverse chains (``_has:Observation:patient:code=x``)
are resolved inside out: the inner search runs first (on its own indexes) and yields the
references or ids the outer condition matches, bounded by :data:`MAX_JOIN`.
https://hl7.org/fhir/R4/search.html#chaining
"""

from __future__ import annotations

from typing import Any

from ..access import AccessPolicy
from ..errors import InvalidRequest
from ..storage import Queries
from .definitions import Registry
from .filters import RANK_ID, RANK_REFERENCE, Condition, Element, Exists, Field, Nothing, render
from .pairs import pair_condition
from .parameters import combine_or
from .parameters.date import LOWER, UPPER
from .query import Clause

__all__ = ["Compiler", "MAX_JOIN"]

MAX_JOIN = 50_000


def _bound(clause: Clause, prefixes: tuple[str, ...]) -> bool:
    parameter = clause.parameter
    return (parameter is not None and parameter.type == "date" and clause.modifier is None
            and clause.chain is None and clause.missing is None and len(clause.values) == 1
            and clause.values[0].prefix in prefixes)


def _date_ranges(clauses: list[Clause]) -> tuple[list[tuple[Clause, Clause]], list[Clause]]:
    """Pairs of one lower and one upper bound on the same date parameter, and the rest."""
    pairs: list[tuple[Clause, Clause]] = []
    rest = list(clauses)
    for lower in clauses:
        if not _bound(lower, LOWER) or lower not in rest:
            continue
        upper = next((c for c in rest if _bound(c, UPPER) and c.parameter == lower.parameter),
                     None)
        if upper is not None:
            pairs.append((lower, upper))
            rest.remove(lower)
            rest.remove(upper)
    return pairs, rest


class Compiler:
    """Builds filters; the inner searches of chains and ``_has`` run through storage with
    the caller's ``policy``, so they cannot reveal resources the caller may not see."""

    def __init__(self, queries: Queries, registry: Registry, policy: AccessPolicy, *,
                 pairs: bool = True) -> None:
        self.queries = queries
        self.registry = registry
        self.policy = policy
        self.pairs = pairs  # pair keys are in current versions only, not in older history

    async def filter(self, resource_type: str, clauses: list[Clause]) -> dict[str, Any]:
        conditions: list[Condition] = []
        paired = pair_condition(resource_type, clauses) if self.pairs else None
        if paired is not None:
            conditions.append(paired[0])
            clauses = paired[1]
        ranges, rest = _date_ranges(clauses)
        conditions += [await self.condition(resource_type, c) for c in rest]
        for lower, upper in ranges:
            assert lower.parameter is not None
            handler = self.registry.handler(resource_type, lower.parameter)
            conditions.append(handler.range_condition(  # type: ignore[attr-defined]
                lower.values[0], upper.values[0], f"search.{lower.parameter.code}"))
        return render(conditions)

    async def condition(self, resource_type: str, clause: Clause) -> Condition:
        if clause.has is not None:
            return await self._has(resource_type, clause)
        parameter = clause.parameter
        assert parameter is not None
        path = f"search.{parameter.code}"
        if parameter.code == "_id":
            return self._id(clause)
        if clause.missing is not None:
            return Exists(path, not clause.missing)
        if clause.chain is not None:
            return await self._chain(path, clause)
        handler = self.registry.handler(resource_type, parameter)
        if getattr(handler, "words_indexed_lazily", False):
            self.queries.start_word_index(resource_type, parameter.code)
        combine = getattr(handler, "clause", None)
        if combine is not None:
            return combine(list(clause.values), clause.modifier, path)
        return combine_or([handler.condition(v, clause.modifier, path) for v in clause.values])

    @staticmethod
    def _id(clause: Clause) -> Condition:
        if clause.missing is not None:
            return Nothing() if clause.missing else Field("_id", {"$exists": True})
        ids = list(dict.fromkeys(clause.values))
        if clause.modifier == "not":
            return Field("_id", {"$nin": ids})
        return Field("_id", ids[0] if len(ids) == 1 else {"$in": ids}, rank=RANK_ID)

    async def _ids(self, resource_type: str, clause: Clause) -> list[str]:
        query = await self.filter(resource_type, [clause])
        ids = await self.queries.ids(self.policy, resource_type, query, MAX_JOIN + 1)
        if len(ids) > MAX_JOIN:
            raise InvalidRequest(f"A chained search on {resource_type} matches more than "
                                 f"{MAX_JOIN} resources; narrow it down")
        return ids

    async def _chain(self, path: str, clause: Clause) -> Condition:
        assert clause.chain is not None
        references: list[str] = []
        for target, inner in clause.chain.targets.items():
            references.extend(f"{target}/{rid}" for rid in await self._ids(target, inner))
        if not references:
            return Nothing()
        return Element(path, {"r": {"$in": references}}, rank=RANK_REFERENCE)

    async def _has(self, resource_type: str, clause: Clause) -> Condition:
        has = clause.has
        assert has is not None
        query = await self.filter(has.source_type, [has.inner])
        prefix = resource_type + "/"
        ids: dict[str, None] = {}
        count = 0
        async for references in self.queries.references(
                self.policy, has.source_type, query, has.reference.code, MAX_JOIN + 1):
            count += 1
            for reference in references:
                if reference.startswith(prefix):
                    ids[reference[len(prefix):]] = None
        if count > MAX_JOIN:
            raise InvalidRequest(f"_has on {has.source_type} matches more than {MAX_JOIN} "
                                 "resources; narrow it down")
        if not ids:
            return Nothing()
        return Field("_id", {"$in": list(ids)}, rank=RANK_ID)
