"""What a running server is made of, built once at startup and shared by the handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient

from consent import ConsentPolicy
from profiles.validator import Validator

from . import validation
from .access import SYSTEM, AccessService
from .access.matcher import IndexMatcher
from .access.paths import r4_paths
from .config import Settings
from .interactions.shipped_gate import ShippedGate
from .search import SearchService
from .shipped_seeding import ShippedSeeding
from .storage import Storage

__all__ = ["Services", "build_services"]

_WORDS = frozenset({"_text", "_content"})


@dataclass
class Services:
    settings: Settings
    client: AsyncMongoClient
    storage: Storage
    validator: Validator
    search: SearchService
    operations: dict[str, Any]
    access: AccessService
    seeding: ShippedSeeding

    @property
    def shipped(self) -> ShippedGate:
        """The gate of the requests that need the shipped content stored."""
        return self.seeding.gate

    @property
    def base(self) -> str:
        return self.settings.fhir_base


async def build_services(settings: Settings, client: AsyncMongoClient) -> Services:
    from .interactions import Caller
    from .interactions.patient_resolution import FeedPatients
    from .operations import definitions, registry
    from .search.custom import RegistryStore
    from .search.engine import SearchEngine
    from .search.index import index_resource
    from .search.parameters import IndexContext
    from .search.reindex import resume_interrupted
    from .subscriptions.topics import shipped_resources

    db = client[settings.database]
    context = IndexContext(settings.fhir_base)
    storage = Storage.open(db, settings.fhir_base,
                           lambda resource: index_resource(store.registry, resource, context),
                           settings.health_id)
    store = RegistryStore(storage.search_registry)
    search = SearchEngine(storage.queries, store, settings)
    validator = await validation.build_validator(storage)
    seeding = ShippedSeeding(  # stored in the background; not searched by its words
        storage, [*validation.shipped_content(), *definitions(), *shipped_resources()],
        lambda resource: index_resource(store.registry, resource, context, _WORDS),
        validator.store)
    base = settings.fhir_base
    access = AccessService(
        base=base, auth_on=settings.auth == "smart", source=storage.consents,
        matcher=IndexMatcher(base, r4_paths(base), search.index),
        consent_policy=ConsentPolicy.from_environment(),
        compile_query=lambda resource_type, params: search.query_filter(
            SYSTEM, resource_type, params))
    services = Services(settings, client, storage, validator, search, registry(), access,
                        seeding)
    storage.hl7_feed.patients = FeedPatients(Caller(services, SYSTEM))
    await storage.ensure_indexes()
    await search.refresh(force=True)
    await resume_interrupted(search, storage)
    return services
