"""Bulk Data Access 2.0 ``$export``: durable jobs, a worker per server process, output
files in GridFS, and the status / file endpoints (https://hl7.org/fhir/uv/bulkdata/).

``install(app, settings)`` starts the worker with the app (it resumes jobs a stopped
server left behind) and declares the export operations in the CapabilityStatement. The
kick-off is the ``$export`` operation (:mod:`fhir_server.operations.export`); the status
and file URLs are served by :func:`.http.dispatch`, which the router calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request

from ..config import Settings
from ..rest.plugins import add_to_capability, run_in_lifespan
from ..storage.export_files import OutputStore
from ..storage.export_jobs import ExportTimings, JobStore
from .http import FILE, STATUS, dispatch
from .worker import ExportWorker

__all__ = ["install", "ExportService", "ExportTimings", "dispatch", "PATHS", "DEFINITIONS",
           "BULK_CAPABILITY"]

PATHS = frozenset({STATUS, FILE})
BULK_CAPABILITY = "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"
DEFINITIONS = {
    None: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
    "Patient": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
    "Group": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
}


@dataclass
class ExportService:
    jobs: JobStore
    outputs: OutputStore
    worker: ExportWorker
    timings: ExportTimings


def timings_from_environment() -> ExportTimings:
    """``FHIR_EXPORT_EXPIRY_SECONDS`` (default 3600): how long files are kept;
    ``FHIR_EXPORT_MAX_JOBS`` (default 10): exports one owner may have queued or running at once."""
    expiry = int(os.environ.get("FHIR_EXPORT_EXPIRY_SECONDS", "3600"))
    max_jobs = int(os.environ.get("FHIR_EXPORT_MAX_JOBS", "10"))
    return ExportTimings(expiry=timedelta(seconds=max(expiry, 1)), max_jobs=max(max_jobs, 1))


def capability_operations(request: Request, rest: dict[str, Any]) -> None:
    """Each export operation with its own canonical OperationDefinition."""
    for operation in rest.get("operation", []):
        if operation["name"] == "export":
            operation["definition"] = DEFINITIONS[None]
    for resource in rest.get("resource", []):
        for operation in resource.get("operation", []):
            if operation["name"] == "export":
                operation["definition"] = DEFINITIONS[resource["type"]]


def install(app: Starlette, settings: Settings) -> None:
    add_to_capability(app, capability_operations, instantiates=BULK_CAPABILITY)

    @asynccontextmanager
    async def exports(application: Starlette) -> AsyncIterator[None]:
        services = application.state.services
        timings = timings_from_environment()
        jobs = services.storage.export_jobs(timings)
        outputs = services.storage.export_files
        await jobs.ensure_indexes()
        await outputs.ensure_indexes()
        worker = ExportWorker(services, jobs, outputs)
        application.state.export = ExportService(jobs, outputs, worker, timings)
        task = asyncio.create_task(worker.loop(), name="export-worker")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    run_in_lifespan(app, exports)
