"""What ``fhir-server load`` has finished (``load_progress``): one record per file chunk,
so an interrupted load resumes after the chunks already stored."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["LoadProgress", "PROGRESS"]

PROGRESS = "load_progress"


class LoadProgress:
    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db

    async def finished(self, key: str) -> bool:
        return await self._db[PROGRESS].find_one({"_id": key}) is not None

    async def record(self, key: str, path: str, resources: int, moment: datetime) -> None:
        await self._db[PROGRESS].replace_one(
            {"_id": key}, {"path": path, "resources": resources, "finishedAt": moment},
            upsert=True)
