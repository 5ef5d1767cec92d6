"""What a running server is made of, built once at startup and shared by the handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from consent import ConsentPolicy
from profiles.service import build_validator
from profiles.validator import Validator

from .access import SYSTEM, AccessService
from .access.matcher import IndexMatcher
from .access.paths import r4_paths
from .config import Settings
from .search import SearchService
from .storage import Storage, StoredResource

__all__ = ["Services", "build_services", "SystemWriter"]

T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    client: AsyncMongoClient
    storage: Storage
    validator: Validator
    search: SearchService
    operations: dict[str, Any]
    access: AccessService
    db: AsyncDatabase  # the stores not yet moved into fhir_server.storage

    @property
    def base(self) -> str:
        return self.settings.fhir_base


class SystemWriter:
    """The repository as the server itself uses it (:data:`SYSTEM` policy): for the
    content loaders outside this package (shipped terminology and profiles, installed
    packages), which write what the server ships, not what a caller asked for."""

    def __init__(self, storage: Storage) -> None:
        self.resources = storage.resources

    async def in_transaction(self, work: Callable[[Any], Awaitable[T]]) -> T:
        return await self.resources.in_transaction(work)

    async def read(self, resource_type: str, rid: str, session: Any = None
                   ) -> StoredResource:
        return await self.resources.read(SYSTEM, resource_type, rid, session)

    async def update(self, resource: dict[str, Any], rid: str, *, if_match: int | None = None,
                     session: Any = None) -> StoredResource:
        return await self.resources.update(SYSTEM, resource, rid, if_match=if_match,
                                           session=session)

    async def delete(self, resource_type: str, rid: str) -> StoredResource | None:
        return await self.resources.delete(SYSTEM, resource_type, rid)

    async def absent_ids(self, resource_type: str, rids: list[str], session: Any = None
                         ) -> set[str]:
        return await self.resources.absent_ids(resource_type, rids, session)

    async def create_many(self, resources: list[tuple[dict[str, Any], str]], *,
                          session: Any) -> list[StoredResource]:
        return await self.resources.create_many(SYSTEM, resources, session=session)


async def build_services(settings: Settings, client: AsyncMongoClient) -> Services:
    from .operations import definitions, registry
    from .search.custom import RegistryStore
    from .search.engine import SearchEngine
    from .search.index import index_resource
    from .search.indexes import ensure_search_indexes
    from .search.parameters import IndexContext
    from .search.reindex import resume_interrupted

    db = client[settings.database]
    store = RegistryStore(db)
    context = IndexContext(settings.fhir_base)
    storage = Storage.open(db, lambda resource: index_resource(store.registry, resource,
                                                               context), settings.fhir_base)
    search = SearchEngine(storage.queries, store, settings)
    validator = await build_validator(db, SystemWriter(storage), definitions())
    base = settings.fhir_base
    access = AccessService(
        base=base, auth_on=settings.auth == "smart", source=storage.consents,
        matcher=IndexMatcher(base, r4_paths(base), search.index),
        consent_policy=ConsentPolicy.from_environment(),
        compile_query=lambda resource_type, params: search.query_filter(
            SYSTEM, resource_type, params))
    services = Services(settings, client, storage, validator, search, registry(), access,
                        db)
    await storage.ensure_indexes()
    await ensure_search_indexes(db)
    await search.refresh(force=True)
    await resume_interrupted(search, storage)
    return services
