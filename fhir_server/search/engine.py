"""The search engine: implements :class:`fhir_server.search.SearchService`.

Parse (``query``) -> compile to MongoDB filters (``compiler``) -> one keyset page with
totals and includes (``execution``) -> ``searchset`` Bundle (``bundle``). The parameter
definitions in force (official plus custom, see ``custom``) are shared through MongoDB.
https://hl7.org/fhir/R4/search.html
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from starlette.requests import Request

from profiles.definitions import resource_types

from ..config import Settings
from ..errors import InvalidRequest
from .bundle import searchset
from .capability import capability_entries
from .compartments import compartment_definitions, compartment_filter, in_compartment
from .compiler import Compiler, and_filters
from .custom import RegistryStore
from .definitions import Registry
from .execution import run_search
from .index import index_resource
from .indexes import ensure_search_indexes
from .parameters import IndexContext
from .query import RESULT_PARAMETERS, SearchQuery, parse_query

__all__ = ["SearchEngine"]


def _lenient(request: Request | None, settings: Settings) -> bool:
    """``Prefer: handling=lenient|strict`` (http.html#prefer), else the server setting."""
    prefer = ",".join(request.headers.getlist("prefer")) if request is not None else ""
    handling = [p.strip().partition("=")[2] for p in prefer.replace(";", ",").split(",")
                if p.strip().startswith("handling=")]
    if handling:
        return handling[-1].strip() == "lenient"
    return settings.lenient_search


class SearchEngine:
    def __init__(self, db: AsyncDatabase, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.context = IndexContext(settings.fhir_base)
        self.store = RegistryStore(db)

    @property
    def registry(self) -> Registry:
        return self.store.registry

    def index(self, resource: dict[str, Any]) -> dict[str, Any]:
        return index_resource(self.store.registry, resource, self.context)

    async def ensure_indexes(self) -> None:
        await ensure_search_indexes(self.db)
        await self.store.refresh(force=True)
        from .reindex import resume_interrupted

        await resume_interrupted(self)

    def capability(self, resource_type: str) -> list[dict[str, Any]]:
        return capability_entries(self.store.registry, resource_type)

    def _parse(self, types: list[str], params: list[tuple[str, str]], lenient: bool
               ) -> SearchQuery:
        return parse_query(self.store.registry, types, params, self.context, lenient=lenient,
                           max_count=self.settings.max_page_size,
                           default_count=self.settings.default_page_size)

    async def filters(
        self, query: SearchQuery, compartment: tuple[str, str] | None,
        restriction: dict[str, Any] | None,
    ) -> dict[str, dict[str, Any]]:
        compiler = Compiler(self.db, self.store.registry, restriction)
        result = {}
        for resource_type in query.resource_types:
            own = await compiler.filter(resource_type, query.clauses[resource_type])
            place = compartment_filter(resource_type, *compartment) if compartment else None
            result[resource_type] = and_filters(own, place, restriction)
        return result

    async def match_ids(
        self, resource_type: str, params: list[tuple[str, str]], limit: int, *,
        restriction: dict[str, Any] | None = None,
    ) -> list[str]:
        await self.store.refresh()
        query = self._parse([resource_type], params, lenient=False)
        filters = await self.filters(query, None, restriction)
        cursor = self.db[resource_type].find(filters[resource_type], {"_id": 1}).limit(limit)
        return [d["_id"] for d in await cursor.to_list()]

    async def query_filter(self, resource_type: str, params: list[tuple[str, str]]
                           ) -> dict[str, Any]:
        """The MongoDB filter of a search's parameters on one type (e.g. the query part of
        a SMART v2 scope such as ``patient/Observation.rs?category=laboratory``); only
        filtering parameters are allowed, unknown ones are a 400."""
        await self.store.refresh()
        query = self._parse([resource_type], params, lenient=False)
        if query.applied and any(name.startswith("_") and name.partition(":")[0] in
                                 RESULT_PARAMETERS for name, _ in query.applied):
            raise InvalidRequest("A query restriction takes filtering parameters only")
        return (await self.filters(query, None, None))[resource_type]

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
        if requested:
            types = set(requested)
        else:
            types = set(await self.db.list_collection_names()) & resource_types()
        if compartment:
            types = {t for t in types if in_compartment(t, compartment[0])}
        return sorted(types)

    async def search(
        self,
        request: Request | None,
        resource_type: str | None,
        params: list[tuple[str, str]],
        *,
        compartment: tuple[str, str] | None = None,
        restriction: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        await self.store.refresh()
        if compartment and compartment[0] not in compartment_definitions():
            raise InvalidRequest(f"Unknown compartment {compartment[0]}")
        types = await self._types(resource_type, params, compartment)
        own = [(k, v) for k, v in params if k != "_type"]
        query = self._parse(types, own, _lenient(request, self.settings))
        if resource_type is None and any(k == "_type" for k, _ in params):
            query.applied.insert(0, ("_type", ",".join(types)))
        filters = await self.filters(query, compartment, restriction)
        page = await run_search(self.db, self.store.registry, filters, query.results,
                                restriction)
        return searchset(self.settings.fhir_base, _path(resource_type, compartment),
                         query.applied, page, query.results, query.results.cursor)


def _path(resource_type: str | None, compartment: tuple[str, str] | None) -> str:
    if compartment:
        return f"{compartment[0]}/{compartment[1]}/{resource_type or '*'}"
    return resource_type or ""
