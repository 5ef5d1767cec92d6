"""Where the custom SearchParameters in force are kept for every server process: one
``search_registry`` document (the parameters and a generation number)."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["SearchRegistryDocument", "REGISTRY_COLLECTION"]

REGISTRY_COLLECTION = "search_registry"
_KEY = "custom"


class SearchRegistryDocument:
    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db

    async def current(self) -> dict[str, Any] | None:
        """``{generation, parameters}``, or None when nothing was ever published."""
        return await self._db[REGISTRY_COLLECTION].find_one({"_id": _KEY})

    async def publish(self, parameters: list[Any]) -> dict[str, Any]:
        """Put these (BSON) SearchParameter resources in force: the next generation."""
        return await self._db[REGISTRY_COLLECTION].find_one_and_update(
            {"_id": _KEY}, {"$inc": {"generation": 1}, "$set": {"parameters": parameters}},
            upsert=True, return_document=ReturnDocument.AFTER)
