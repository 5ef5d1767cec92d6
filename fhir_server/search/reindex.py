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

from .. import clock
from ..access import SYSTEM

if TYPE_CHECKING:
    from ..storage import Storage
    from .engine import SearchEngine

__all__ = ["start_reindex", "job_status", "resume_interrupted"]

log = logging.getLogger(__name__)
BATCH = 200
LEASE = timedelta(seconds=60)
_OWNER = uuid.uuid4().hex
_running: set[asyncio.Task[None]] = set()  # task handles only; the state is in MongoDB


async def start_reindex(engine: SearchEngine, storage: Storage, resource_type: str | None
                        ) -> dict[str, Any]:
    """Put the stored SearchParameters in force and start re-extracting indexes."""
    stored = await storage.queries.find(SYSTEM, "SearchParameter", {})
    resources = [f.resource for f in stored if f.resource.get("status") != "retired"]
    accepted, rejected = await engine.store.publish(resources)
    if resource_type is not None:
        types = [resource_type]
    else:
        types = sorted(await storage.queries.stored_types())
    total = 0
    for name in types:
        total += await storage.reindex.size(name)
    now = clock.now()
    job = {
        "_id": str(uuid.uuid4()), "status": "running", "types": types,
        "position": {"type": 0, "after": None}, "processed": 0, "total": total,
        "accepted": accepted, "rejected": rejected, "generation": engine.store.generation,
        "created": now, "updated": now, "owner": _OWNER, "leaseUntil": now + LEASE,
    }
    await storage.reindex.create(job)
    _spawn(engine, storage, job["_id"])
    return job


async def job_status(storage: Storage, job_id: str) -> dict[str, Any] | None:
    return await storage.reindex.get(job_id)


def _spawn(engine: SearchEngine, storage: Storage, job_id: str) -> None:
    task = asyncio.get_running_loop().create_task(_run(engine, storage, job_id))
    _running.add(task)
    task.add_done_callback(_running.discard)


async def _run(engine: SearchEngine, storage: Storage, job_id: str) -> None:
    jobs = storage.reindex
    try:
        await engine.store.refresh(force=True)
        job = await jobs.get(job_id)
        while job is not None and job["status"] == "running":
            index, after = job["position"]["type"], job["position"]["after"]
            if index >= len(job["types"]):
                await jobs.progress(job_id, _OWNER, {"status": "completed",
                                                     "finished": clock.now()}, LEASE)
                return
            done, last = await jobs.reindex_batch(job["types"][index], after, BATCH,
                                                  engine.index)
            position = ({"type": index, "after": last} if last is not None
                        else {"type": index + 1, "after": None})
            if not await jobs.progress(job_id, _OWNER, {
                "position": position, "processed": job["processed"] + done,
            }, LEASE):
                return
            job = await jobs.get(job_id)
    except Exception as error:
        log.exception("reindex job %s failed", job_id)
        await jobs.progress(job_id, _OWNER, {"status": "failed", "error": str(error)[:500]},
                            LEASE)


async def resume_interrupted(engine: SearchEngine, storage: Storage) -> None:
    """Take over running jobs whose owner stopped renewing the lease."""
    async for job_id in storage.reindex.take_over_expired(_OWNER, LEASE):
        _spawn(engine, storage, job_id)
