"""Installed FHIR packages (``ig_packages``) and what installing one looks up: the
:class:`profiles.install.PackageStore` of the server, writing as the server itself."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from ..access import SYSTEM
from .resources import Resources, StoredResource

__all__ = ["InstalledPackages", "INSTALLED_PACKAGES"]

INSTALLED_PACKAGES = "ig_packages"


class InstalledPackages:
    def __init__(self, db: AsyncDatabase, resources: Resources) -> None:
        self._db = db
        self.resources = resources

    async def update(self, resource: dict[str, Any], rid: str) -> StoredResource:
        return await self.resources.update(SYSTEM, resource, rid)

    async def id_with_url(self, resource_type: str, url: str) -> str | None:
        found = await self._db[resource_type].find_one({"resource.url": url}, {"_id": 1})
        return None if found is None else str(found["_id"])

    async def exists(self, resource_type: str, rid: str) -> bool:
        return await self._db[resource_type].find_one({"_id": rid}, {"_id": 1}) is not None

    async def record_package(self, label: str, record: dict[str, Any]) -> None:
        await self._db[INSTALLED_PACKAGES].replace_one({"_id": label}, {"_id": label, **record},
                                                       upsert=True)
