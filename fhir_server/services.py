"""What a running server is made of, built once at startup and shared by the handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from profiles.service import build_validator
from profiles.validator import Validator

from .config import Settings
from .database import ensure_base_indexes
from .repository import Repository
from .search import SearchService

__all__ = ["Services", "build_services"]


@dataclass
class Services:
    settings: Settings
    client: AsyncMongoClient
    db: AsyncDatabase
    repository: Repository
    validator: Validator
    search: SearchService
    operations: dict[str, Any]

    @property
    def base(self) -> str:
        return self.settings.fhir_base


async def build_services(settings: Settings, client: AsyncMongoClient) -> Services:
    from .operations import registry
    from .search.engine import SearchEngine

    db = client[settings.database]
    search = SearchEngine(db, settings)
    repository = Repository(db, indexer=search.index)
    validator = await build_validator(db, repository)
    services = Services(settings, client, db, repository, validator, search, registry())
    await ensure_base_indexes(db)
    await search.ensure_indexes()
    return services
