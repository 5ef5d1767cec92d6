"""The export worker: a task in each server process that claims and runs export jobs.

It wakes when a kick-off in the same process signals it, or every ``IDLE_SECONDS`` to
pick up jobs queued by other processes or left behind by a stopped one (lease expired).
A job claimed more than ``MAX_ATTEMPTS`` times fails with an error instead of looping.
Every ``CLEAN_SECONDS`` it deletes the files of expired, cancelled and failed jobs.
On shutdown the running job is released so the next server resumes it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from .. import clock
from ..storage.export_files import OutputStore
from ..storage.export_jobs import MAX_ATTEMPTS, JobStore
from .audit import record_export
from .runner import Cancelled, ExportRun

__all__ = ["ExportWorker"]

log = logging.getLogger("fhir_server.export")
IDLE_SECONDS = 1.0
CLEAN_SECONDS = 30.0


class ExportWorker:
    def __init__(self, services: Any, jobs: JobStore, outputs: OutputStore) -> None:
        self.services = services
        self.jobs = jobs
        self.outputs = outputs
        self.name = uuid.uuid4().hex
        self.wake = asyncio.Event()
        self.current: str | None = None
        self.last_clean = 0.0

    async def loop(self) -> None:
        while True:
            try:
                await self.clean()
                while await self.run_one():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("export worker iteration failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(IDLE_SECONDS):
                    await self.wake.wait()
            self.wake.clear()

    async def clean(self, force: bool = False) -> None:
        loop_time = asyncio.get_running_loop().time()
        if not force and loop_time - self.last_clean < CLEAN_SECONDS:
            return
        self.last_clean = loop_time
        for job in await self.jobs.to_clean(clock.now()):
            if job["status"] == "running" and job["lease_until"] > clock.now():
                continue
            await self.outputs.delete_job(job["_id"])
            await self.jobs.cleaned(job["_id"])

    async def run_one(self) -> bool:
        """Claim and run one job; False when there was none."""
        job = await self.jobs.claim(self.name)
        if job is None:
            return False
        self.current = job["_id"]
        try:
            await self._run(job)
        finally:
            self.current = None
        return True

    async def _run(self, job: dict[str, Any]) -> None:
        if job["attempts"] > MAX_ATTEMPTS:
            await self.jobs.finish(job["_id"], self.name, "failed", {
                "progress": "failed", "failure":
                f"The export was interrupted {MAX_ATTEMPTS} times and was abandoned"})
            return
        run = ExportRun(self.services, self.jobs, self.outputs, job, self.name)
        try:
            outputs, errors = await run.run()
        except Cancelled:
            await self.outputs.delete_job(job["_id"])
            return
        except asyncio.CancelledError:
            await asyncio.shield(self.jobs.release(job["_id"], self.name))
            raise
        except Exception as error:
            log.exception("export job %s failed", job["_id"])
            await self.jobs.finish(job["_id"], self.name, "failed",
                                   {"progress": "failed", "failure": str(error)[:500]})
            return
        finished = await self.jobs.finish(job["_id"], self.name, "completed", {
            "outputs": outputs, "errors": errors, "exported": run.exported,
            "progress": "completed"})
        if finished:
            await record_export(self.services, job, outputs)
        else:
            await self.outputs.delete_job(job["_id"])
