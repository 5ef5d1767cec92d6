"""Background re-extraction of search indexes (``$reindex``), resumable across restarts.

A job document in ``search_jobs`` holds the types to visit, the position reached (type
and last id) and a lease: the process running it renews the lease after every batch, and
any process finding a job whose lease expired (a crash, a restart) takes it over and
continues from the stored position. Nothing about the job lives only in memory.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pymongo import UpdateOne

from profiles.definitions import resource_types

from .. import clock
from ..json_io import from_bson

if TYPE_CHECKING:
    from .engine import SearchEngine

__all__ = ["start_reindex", "job_status", "resume_interrupted", "JOBS"]

log = logging.getLogger(__name__)
JOBS = "search_jobs"
BATCH = 200
LEASE = timedelta(seconds=60)
_OWNER = uuid.uuid4().hex
_running: set[asyncio.Task[None]] = set()  # task handles only; the state is in MongoDB


async def start_reindex(engine: SearchEngine, resource_type: str | None) -> dict[str, Any]:
    """Put the stored SearchParameters in force and start re-extracting indexes."""
    db = engine.db
    stored = await db["SearchParameter"].find({}, {"resource": 1}).to_list()
    resources = [from_bson(d["resource"]) for d in stored
                 if d["resource"].get("status") != "retired"]
    accepted, rejected = await engine.store.publish(resources)
    if resource_type is not None:
        types = [resource_type]
    else:
        types = sorted(set(await db.list_collection_names()) & resource_types())
    total = 0
    for name in types:
        total += await db[name].estimated_document_count()
    now = clock.now()
    job = {
        "_id": str(uuid.uuid4()), "status": "running", "types": types,
        "position": {"type": 0, "after": None}, "processed": 0, "total": total,
        "accepted": accepted, "rejected": rejected, "generation": engine.store.generation,
        "created": now, "updated": now, "owner": _OWNER, "leaseUntil": now + LEASE,
    }
    await db[JOBS].insert_one(job)
    _spawn(engine, job["_id"])
    return job


async def job_status(engine: SearchEngine, job_id: str) -> dict[str, Any] | None:
    return await engine.db[JOBS].find_one({"_id": job_id})


def _spawn(engine: SearchEngine, job_id: str) -> None:
    task = asyncio.get_running_loop().create_task(_run(engine, job_id))
    _running.add(task)
    task.add_done_callback(_running.discard)


async def _claim_progress(engine: SearchEngine, job_id: str, changes: dict[str, Any]) -> bool:
    """Record progress and renew the lease, if this process still owns the job."""
    now = clock.now()
    result = await engine.db[JOBS].update_one(
        {"_id": job_id, "owner": _OWNER, "status": "running"},
        {"$set": {**changes, "updated": now, "leaseUntil": now + LEASE}},
    )
    return result.modified_count == 1


async def _reindex_batch(engine: SearchEngine, resource_type: str, after: str | None
                         ) -> tuple[int, str | None]:
    query = {} if after is None else {"_id": {"$gt": after}}
    docs = await (engine.db[resource_type].find(query, {"resource": 1, "vid": 1})
                  .sort("_id", 1).limit(BATCH).to_list())
    if not docs:
        return 0, None
    updates = [UpdateOne({"_id": d["_id"], "vid": d["vid"]},
                         {"$set": {"search": engine.index(from_bson(d["resource"]))}})
               for d in docs]
    await engine.db[resource_type].bulk_write(updates, ordered=False)
    return len(docs), docs[-1]["_id"]


async def _run(engine: SearchEngine, job_id: str) -> None:
    try:
        await engine.store.refresh(force=True)
        job = await job_status(engine, job_id)
        while job is not None and job["status"] == "running":
            index, after = job["position"]["type"], job["position"]["after"]
            if index >= len(job["types"]):
                await _claim_progress(engine, job_id, {"status": "completed",
                                                       "finished": clock.now()})
                return
            done, last = await _reindex_batch(engine, job["types"][index], after)
            position = ({"type": index, "after": last} if last is not None
                        else {"type": index + 1, "after": None})
            if not await _claim_progress(engine, job_id, {
                "position": position, "processed": job["processed"] + done,
            }):
                return
            job = await job_status(engine, job_id)
    except Exception as error:
        log.exception("reindex job %s failed", job_id)
        await _claim_progress(engine, job_id, {"status": "failed", "error": str(error)[:500]})


async def resume_interrupted(engine: SearchEngine) -> None:
    """Take over running jobs whose owner stopped renewing the lease."""
    now = clock.now()
    async for job in engine.db[JOBS].find({"status": "running", "leaseUntil": {"$lt": now}}):
        claimed = await engine.db[JOBS].find_one_and_update(
            {"_id": job["_id"], "status": "running", "leaseUntil": job["leaseUntil"]},
            {"$set": {"owner": _OWNER, "leaseUntil": now + LEASE, "updated": now}},
        )
        if claimed is not None:
            _spawn(engine, job["_id"])
