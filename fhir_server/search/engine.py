"""The search engine: implements :class:`fhir_server.search.SearchService`.

Parse (``query``) -> compile to MongoDB filters (``compiler``) -> one keyset page with
totals and includes (``execution``) -> ``searchset`` Bundle (``bundle``). The parameter
definitions in force (official plus custom, see ``custom``) are shared through MongoDB.
https://hl7.org/fhir/R4/search.html
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from profiles.definitions import resource_types

from ..access import AccessPolicy
from ..config import Settings
from ..errors import BusinessRuleViolation, InvalidRequest
from ..storage import Queries
from ..storage.filters import and_filters
from .bundle import searchset
from .capability import capability_entries
from .compartments import compartment_definitions, compartment_filter, in_compartment
from .compiler import Compiler
from .custom import RegistryStore
from .definitions import Registry
from .execution import run_search
from .hints import hints_of
from .index import index_resource
from .paging import mongo_sort, sort_fields
from .parameters import IndexContext
from .query import RESULT_PARAMETERS, SearchQuery, parse_query

__all__ = ["SearchEngine"]


class SearchEngine:
    def __init__(self, queries: Queries, store: RegistryStore, settings: Settings) -> None:
        self.queries = queries
        self.settings = settings
        self.context = IndexContext(settings.fhir_base)
        self.store = store

    @property
    def registry(self) -> Registry:
        return self.store.registry

    def index(self, resource: dict[str, Any]) -> dict[str, Any]:
        return index_resource(self.store.registry, resource, self.context)

    async def refresh(self, force: bool = False) -> None:
        await self.store.refresh(force=force)

    def capability(self, resource_type: str) -> list[dict[str, Any]]:
        return capability_entries(self.store.registry, resource_type)

    def _parse(self, types: list[str], params: list[tuple[str, str]], lenient: bool
               ) -> SearchQuery:
        return parse_query(self.store.registry, types, params, self.context, lenient=lenient,
                           max_count=self.settings.max_page_size,
                           default_count=self.settings.default_page_size)

    async def _filters(self, policy: AccessPolicy, query: SearchQuery,
                       compartment: tuple[str, str] | None, *, pairs: bool = True
                       ) -> dict[str, dict[str, Any]]:
        """The query's own MongoDB filter per searched type (the policy's conditions are
        added by storage, on every query it runs)."""
        compiler = Compiler(self.queries, self.store.registry, policy, pairs=pairs)
        result = {}
        for resource_type in query.resource_types:
            own = await compiler.filter(resource_type, query.clauses[resource_type])
            place = compartment_filter(resource_type, *compartment) if compartment else None
            result[resource_type] = and_filters(own, place)
        return result

    async def match_ids(self, policy: AccessPolicy, resource_type: str,
                        params: list[tuple[str, str]], limit: int) -> list[str]:
        """Ids of up to ``limit`` resources the caller may see that match a conditional
        interaction's query (unknown parameters are always an error here: 400)."""
        await self.store.refresh()
        query = self._parse([resource_type], params, lenient=False)
        narrowed = policy.narrowed(hints_of(query, None))
        filters = await self._filters(narrowed, query, None)
        return await self.queries.ids(narrowed, resource_type, filters[resource_type], limit)

    async def resources(self, policy: AccessPolicy, resource_type: str,
                        params: list[tuple[str, str]], *, limit: int
                        ) -> list[dict[str, Any]]:
        """Up to ``limit`` resources the caller may see matching a search's filtering
        parameters (and ``_sort``), for operations that compute over them; 422 when more
        match (the caller narrows the search)."""
        await self.store.refresh()
        query = self._parse([resource_type], params, lenient=False)
        narrowed = policy.narrowed(hints_of(query, None))
        filters = await self._filters(narrowed, query, None)
        fields = sort_fields(query.results.sort)
        found = await self.queries.find(narrowed, resource_type, filters[resource_type],
                                        sort=mongo_sort(fields, False), limit=limit + 1)
        if len(found) > limit:
            raise BusinessRuleViolation(f"More than {limit} {resource_type} resources match; "
                                        "narrow the request down (a date range)")
        return [f.resource for f in found]

    async def query_filter(self, policy: AccessPolicy, resource_type: str,
                           params: list[tuple[str, str]]) -> dict[str, Any]:
        """The MongoDB filter of a search's parameters on one type (the query part of a
        SMART v2 scope such as ``patient/Observation.rs?category=laboratory``, an export's
        ``_typeFilter``); only filtering parameters are allowed, unknown ones are a 400.
        Chains and ``_has`` inside it see only what ``policy`` shows."""
        await self.store.refresh()
        query = self._parse([resource_type], params, lenient=False)
        if query.applied and any(name.startswith("_") and name.partition(":")[0] in
                                 RESULT_PARAMETERS for name, _ in query.applied):
            raise InvalidRequest("A query restriction takes filtering parameters only")
        return (await self._filters(policy, query, None, pairs=False))[resource_type]

    async def _types(self, resource_type: str | None, params: list[tuple[str, str]],
                     compartment: tuple[str, str] | None) -> list[str]:
        if resource_type is not None:
            if compartment and not in_compartment(resource_type, compartment[0]):
                raise InvalidRequest(f"{resource_type} is not in the {compartment[0]} "
                                     "compartment")
            return [resource_type]
        requested = [t for name, value in params if name == "_type"
                     for t in value.split(",") if t]
        unknown = [t for t in requested if t not in resource_types()]
        if unknown:
            raise InvalidRequest(f"Unknown resource type(s) in _type: {', '.join(unknown)[:200]}")
        types = set(requested) if requested else await self.queries.stored_types()
        if compartment:
            types = {t for t in types if in_compartment(t, compartment[0])}
        return sorted(types)

    async def search(
        self,
        policy: AccessPolicy,
        resource_type: str | None,
        params: list[tuple[str, str]],
        *,
        compartment: tuple[str, str] | None = None,
        lenient: bool | None = None,
    ) -> dict[str, Any]:
        """Run a search interaction and return the ``searchset`` Bundle (``lenient``:
        ignore unknown parameters; None: the server's setting)."""
        await self.store.refresh()
        if compartment and compartment[0] not in compartment_definitions():
            raise InvalidRequest(f"Unknown compartment {compartment[0]}")
        types = await self._types(resource_type, params, compartment)
        own = [(k, v) for k, v in params if k != "_type"]
        query = self._parse(types, own, self.settings.lenient_search if lenient is None
                            else lenient)
        if resource_type is None and any(k == "_type" for k, _ in params):
            query.applied.insert(0, ("_type", ",".join(types)))
        narrowed = policy.narrowed(hints_of(query, compartment))
        path = _path(resource_type, compartment)
        narrowed.note_query(f"GET {path}?{urlencode(query.applied)}".rstrip("?"))
        filters = await self._filters(narrowed, query, compartment)
        page = await run_search(self.queries, narrowed, self.store.registry, filters,
                                query.results)
        return searchset(self.settings.fhir_base, path, query.applied, page, query.results,
                         query.results.cursor)


def _path(resource_type: str | None, compartment: tuple[str, str] | None) -> str:
    if compartment:
        return f"{compartment[0]}/{compartment[1]}/{resource_type or '*'}"
    return resource_type or ""
