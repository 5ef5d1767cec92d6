"""Export jobs, durable in MongoDB (Bulk Data Access 2.0, "Bulk Data Status Request").

A job document lives in ``export_jobs``; any server process can answer its polling URL.
Workers claim a job with ``findOneAndUpdate`` and hold a lease they renew while writing;
a job whose lease ran out (its server stopped) is claimed again and restarted from the
first resource type not yet complete, up to ``MAX_ATTEMPTS`` times, then failed with an
error. Finished jobs expire (``expires``); a TTL index removes the document a day later,
after the cleanup has deleted its files.

States: ``queued`` -> ``running`` -> ``completed`` | ``failed``; ``cancelled`` at any
time (DELETE on the polling URL); ``expired`` once the files are deleted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from .. import clock
from .documents import write_options

__all__ = ["JobStore", "JOBS", "ACTIVE", "FINISHED", "MAX_ATTEMPTS", "ExportTimings"]

JOBS = "export_jobs"
OWNERS = "export_owners"
ACTIVE = ("queued", "running")
FINISHED = ("completed", "failed")
MAX_ATTEMPTS = 3
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class ExportTimings:
    """``expiry``: how long files are kept; ``lease``: how long a silent worker keeps a
    job; ``min_poll``: the shortest polling interval before 429; ``retry_after``."""

    expiry: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(seconds=30)
    min_poll: timedelta = timedelta(seconds=1)
    retry_after: int = 2
    max_jobs: int = 10


class JobStore:
    def __init__(self, db: AsyncDatabase, timings: ExportTimings) -> None:
        self.jobs = db[JOBS]
        self.owners = db[OWNERS]
        self.timings = timings

    async def ensure_indexes(self) -> None:
        await self.jobs.create_index("purge_at", expireAfterSeconds=0, name="export_purge")
        await self.jobs.create_index([("status", ASCENDING), ("lease_until", ASCENDING)],
                                     name="export_claim")
        await self.jobs.create_index([("owner.client_id", ASCENDING),
                                      ("owner.subject", ASCENDING), ("status", ASCENDING)],
                                     name="export_owner_subject")

    async def create_within_limit(self, document: dict[str, Any],
                                  limit: int) -> dict[str, Any] | None:
        """Queue the job unless its owner already has ``limit`` exports queued or running
        (None then). Count and insert are one transaction that also writes the owner's
        document in ``export_owners``, so concurrent kick-offs of one owner, in any server
        process, conflict there and are counted one after another: never over the limit."""
        owner = document["owner"]
        key = f"{owner.get('client_id')}\x1f{owner.get('subject')}"

        async def work(session: AsyncClientSession) -> dict[str, Any] | None:
            await self.owners.update_one({"_id": key}, {"$inc": {"kickoffs": 1}},
                                         upsert=True, session=session)
            if await self.active_count(owner, session) >= limit:
                return None
            return await self.create(document, session)

        async with self.jobs.database.client.start_session() as session:
            return await session.with_transaction(work, **write_options())

    async def create(self, document: dict[str, Any],
                     session: AsyncClientSession | None = None) -> dict[str, Any]:
        now = clock.now()
        job = {"_id": uuid.uuid4().hex, "status": "queued", "created": now,
               "transaction_time": now, "outputs": [], "errors": [], "done_types": [],
               "attempts": 0, "exported": 0, "progress": "queued", "lease_until": now,
               "last_poll": _NEVER, "expires": None,
               "purge_at": now + timedelta(days=7), **document}
        await self.jobs.insert_one(job, session=session)
        return job

    async def get(self, job_id: str) -> dict[str, Any] | None:
        return await self.jobs.find_one({"_id": job_id})

    async def active_count(self, owner: dict[str, Any],
                           session: AsyncClientSession | None = None) -> int:
        """How many exports of this owner (client and user) are queued or running."""
        return await self.jobs.count_documents({
            "owner.client_id": owner.get("client_id"), "owner.subject": owner.get("subject"),
            "status": {"$in": list(ACTIVE)}}, session=session)

    async def claim(self, worker: str) -> dict[str, Any] | None:
        """The oldest job nobody holds, now leased to ``worker``."""
        now = clock.now()
        return await self.jobs.find_one_and_update(
            {"status": {"$in": list(ACTIVE)}, "lease_until": {"$lte": now}},
            {"$set": {"status": "running", "worker": worker,
                      "lease_until": now + self.timings.lease},
             "$inc": {"attempts": 1}},
            sort=[("lease_until", ASCENDING)], return_document=ReturnDocument.AFTER)

    async def renew(self, job_id: str, worker: str, changes: dict[str, Any]) -> bool:
        """Renew the lease and record progress; False when the job was cancelled or
        taken over (the worker must stop)."""
        result = await self.jobs.update_one(
            {"_id": job_id, "worker": worker, "status": "running"},
            {"$set": {**changes, "lease_until": clock.now() + self.timings.lease}})
        return result.matched_count == 1

    async def finish(self, job_id: str, worker: str, status: str,
                     changes: dict[str, Any]) -> bool:
        now = clock.now()
        expires = now + self.timings.expiry
        result = await self.jobs.update_one(
            {"_id": job_id, "worker": worker, "status": "running"},
            {"$set": {**changes, "status": status, "finished": now, "expires": expires,
                      "purge_at": expires + timedelta(days=1)}})
        return result.matched_count == 1

    async def release(self, job_id: str, worker: str) -> None:
        """Give a job back (server shutting down): another worker may resume it now."""
        await self.jobs.update_one({"_id": job_id, "worker": worker, "status": "running"},
                                   {"$set": {"lease_until": clock.now()}})

    async def cancel(self, job_id: str) -> bool:
        now = clock.now()
        result = await self.jobs.update_one(
            {"_id": job_id, "status": {"$in": [*ACTIVE, *FINISHED]}},
            {"$set": {"status": "cancelled", "expires": now,
                      "purge_at": now + timedelta(days=1)}})
        return result.matched_count == 1

    async def polled(self, job_id: str) -> bool:
        """Record a status request; False when the previous one was too recent."""
        now = clock.now()
        result = await self.jobs.update_one(
            {"_id": job_id, "last_poll": {"$lte": now - self.timings.min_poll}},
            {"$set": {"last_poll": now}})
        return result.matched_count == 1

    async def to_clean(self, now: datetime) -> list[dict[str, Any]]:
        """Jobs whose files must go: expired, cancelled or failed, files not yet deleted."""
        cursor = self.jobs.find({"files_deleted": {"$ne": True}, "$or": [
            {"expires": {"$lte": now}}, {"status": {"$in": ["cancelled", "failed"]}}]},
            {"_id": 1, "status": 1, "lease_until": 1})
        return await cursor.to_list(100)

    async def cleaned(self, job_id: str) -> None:
        await self.jobs.update_one({"_id": job_id, "status": "completed"},
                                   {"$set": {"status": "expired"}})
        await self.jobs.update_one({"_id": job_id}, {"$set": {"files_deleted": True}})
