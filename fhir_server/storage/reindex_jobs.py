"""What ``$reindex`` keeps in MongoDB: its jobs (``search_jobs``, with a lease) and the
re-extraction of stored index fields, batch by batch (the server's own work: it reads
every resource, whatever any caller may see)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from .. import clock
from ..json_io import from_bson

__all__ = ["ReindexJobs", "JOBS"]

JOBS = "search_jobs"


class ReindexJobs:
    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db

    async def create(self, job: dict[str, Any]) -> None:
        await self._db[JOBS].insert_one(job)

    async def get(self, job_id: str) -> dict[str, Any] | None:
        return await self._db[JOBS].find_one({"_id": job_id})

    async def progress(self, job_id: str, owner: str, changes: dict[str, Any],
                       lease: timedelta) -> bool:
        """Record progress and renew the lease, if ``owner`` still owns the running job."""
        now = clock.now()
        result = await self._db[JOBS].update_one(
            {"_id": job_id, "owner": owner, "status": "running"},
            {"$set": {**changes, "updated": now, "leaseUntil": now + lease}})
        return result.modified_count == 1

    async def take_over_expired(self, owner: str, lease: timedelta) -> AsyncIterator[str]:
        """Claim running jobs whose owner stopped renewing the lease; their ids."""
        now = clock.now()
        async for job in self._db[JOBS].find({"status": "running",
                                              "leaseUntil": {"$lt": now}}):
            claimed = await self._db[JOBS].find_one_and_update(
                {"_id": job["_id"], "status": "running", "leaseUntil": job["leaseUntil"]},
                {"$set": {"owner": owner, "leaseUntil": now + lease, "updated": now}})
            if claimed is not None:
                yield job["_id"]

    async def size(self, resource_type: str) -> int:
        return await self._db[resource_type].estimated_document_count()

    async def reindex_batch(self, resource_type: str, after: str | None, batch: int,
                            index: Callable[[dict[str, Any]], dict[str, Any]]
                            ) -> tuple[int, str | None]:
        """Re-extract the index fields of up to ``batch`` resources after id ``after``
        (a resource changed meanwhile keeps the index its own write gave it)."""
        query = {} if after is None else {"_id": {"$gt": after}}
        docs = await (self._db[resource_type].find(query, {"resource": 1, "vid": 1})
                      .sort("_id", 1).limit(batch).to_list())
        if not docs:
            return 0, None
        updates = [UpdateOne({"_id": d["_id"], "vid": d["vid"]},
                             {"$set": {"search": index(from_bson(d["resource"]))}})
                   for d in docs]
        await self._db[resource_type].bulk_write(updates, ordered=False)
        return len(docs), docs[-1]["_id"]
