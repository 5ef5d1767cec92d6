"""``_include`` and ``_revinclude`` (with ``:iterate`` and ``*``).

Includes are resolved from the index: the references a page's resources hold are in their
``search.<code>`` entries, and the resources referring to them are found by an (indexed)
``$in`` on the referring type's ``search.<code>.r``. The caller's restriction filter
applies to every included type; a reverse include tests what the referring resources say,
so a resource the caller gets masked never comes in through a (masked) reference. https://hl7.org/fhir/R4/search.html#include
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from profiles.definitions import resource_types

from ..access import AccessPolicy, Hints
from ..storage import Found, Queries
from .definitions import Registry, SearchParameter
from .results import Include

__all__ = ["IncludeResolver", "MAX_INCLUDED", "MAX_ITERATIONS"]

MAX_INCLUDED = 1000
MAX_ITERATIONS = 3


def _reference_parameters(registry: Registry, resource_type: str) -> list[SearchParameter]:
    return [p for p in registry.parameters(resource_type).values()
            if p.type == "reference" and p.supported]


class IncludeResolver:
    def __init__(self, queries: Queries, policy: AccessPolicy, registry: Registry) -> None:
        self.queries = queries
        self.policy = policy
        self.registry = registry
        self._projection: dict[str, int] = {"resource": 1}

    async def resolve(self, matches: list[Found], includes: list[Include],
                      revincludes: list[Include]) -> list[Found]:
        self._projection = {"resource": 1}
        if any(i.iterate for i in [*includes, *revincludes]):
            self._projection["search"] = 1
        seen = {f.key for f in matches}
        included: list[Found] = []
        frontier = matches
        for iteration in range(MAX_ITERATIONS):
            found: list[Found] = []
            for include in includes:
                if iteration == 0 or include.iterate:
                    found.extend(await self._forward(frontier, include))
            for include in revincludes:
                if iteration == 0 or include.iterate:
                    found.extend(await self._reverse(frontier, include))
            frontier = []
            for item in found:
                if item.key not in seen and len(included) < MAX_INCLUDED:
                    seen.add(item.key)
                    included.append(item)
                    frontier.append(item)
            if not frontier or not any(i.iterate for i in [*includes, *revincludes]):
                break
        return included

    async def _fetch(self, resource_type: str, query: dict[str, Any], *,
                     by_content: bool = False) -> list[Found]:
        policy = self.policy
        if by_content:
            policy = policy.narrowed(Hints(policy.hints.patients, content=True))
        return await self.queries.find(policy, resource_type, query,
                                       projection=self._projection, limit=MAX_INCLUDED)

    async def _forward(self, sources: list[Found], include: Include) -> list[Found]:
        wanted: dict[str, set[str]] = defaultdict(set)
        for source in sources:
            if include.source_type not in (None, source.resource_type):
                continue
            parameters = ([include.parameter] if include.parameter else
                          _reference_parameters(self.registry, source.resource_type))
            for parameter in parameters:
                for reference in source.references(parameter.code):
                    target, _, rid = reference.partition("/")
                    if rid and "/" not in rid and target in resource_types() and (
                        include.target in (None, target)
                    ):
                        wanted[target].add(rid)
        found: list[Found] = []
        for target, ids in sorted(wanted.items()):
            found.extend(await self._fetch(target, {"_id": {"$in": sorted(ids)}}))
        return found

    async def _reverse(self, targets: list[Found], include: Include) -> list[Found]:
        keys = [t.key for t in targets]
        if not keys:
            return []
        if include.source_type is not None and include.parameter is not None:
            pairs = [(include.source_type, include.parameter)]
        else:
            pairs = await self._referring_parameters({t.resource_type for t in targets})
        found: list[Found] = []
        for source_type, parameter in pairs:
            query = {f"search.{parameter.code}.r": {"$in": keys}}
            found.extend(await self._fetch(source_type, query, by_content=True))
        return found

    async def _referring_parameters(self, types: set[str]) -> list[tuple[str, SearchParameter]]:
        """For ``_revinclude=*``: reference parameters of stored types that can point here."""
        stored = await self.queries.stored_types()
        return [(source_type, parameter)
                for source_type in sorted(stored)
                for parameter in _reference_parameters(self.registry, source_type)
                if not parameter.target or types & set(parameter.target)]
