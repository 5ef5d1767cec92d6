"""The status, cancel and download endpoints of bulk exports (Bulk Data Access 2.0,
"Bulk Data Status Request", "Bulk Data Delete Request", "File Request").

* ``GET  [base]/$export-poll-status?_job=ID``: 202 with ``X-Progress`` and ``Retry-After``
  while running (429 when polled faster than allowed), 200 with the manifest when done,
  500 with an OperationOutcome when the job failed, 404 once cancelled or expired.
* ``DELETE`` on the same URL: 202, the job is cancelled and its files deleted.
* ``GET  [base]/$export-file/ID/<Type>.ndjson``: the file, streamed as
  ``application/fhir+ndjson``.

A job belongs to who started it: the same client *and* the same user (token ``sub``; with
a patient-context token, the same patient too). To anyone else it does not exist (404).
"""

from __future__ import annotations

from email.utils import format_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from .. import clock
from ..access import policy_of
from ..errors import FhirError, InvalidRequest, MethodNotAllowed, NotFound, TooManyRequests
from ..storage.export_jobs import ACTIVE
from .parameters import NDJSON

__all__ = ["dispatch", "STATUS", "FILE", "status_url"]

STATUS = "$export-poll-status"
FILE = "$export-file"


def status_url(base: str, job_id: str) -> str:
    return f"{base}/{STATUS}?_job={job_id}"


_OWNER_KEYS = ("client_id", "subject", "patient")


async def _job(request: Request, job_id: str) -> dict[str, Any]:
    export = request.app.state.export
    job = await export.jobs.get(job_id) if job_id else None
    owner = policy_of(request).owner()
    if job is None or any(job["owner"].get(k) != owner.get(k) for k in _OWNER_KEYS):
        raise NotFound(f"No export job '{job_id[:64]}'")
    if job["status"] in ("cancelled", "expired"):
        raise NotFound(f"The export job {job_id} was {job['status']}; its files are deleted")
    return job


def _manifest(request: Request, job: dict[str, Any]) -> dict[str, Any]:
    base = request.app.state.services.base
    files = f"{base}/{FILE}/{job['_id']}"
    auth_on = getattr(request.app.state.settings, "auth", "off") == "smart"
    return {
        "transactionTime": clock.to_instant(job["transaction_time"]),
        "request": job["request"],
        "requiresAccessToken": auth_on,
        "output": [{"type": o["type"], "url": f"{files}/{o['name']}", "count": o["count"]}
                   for o in job["outputs"]],
        "error": [{"type": o["type"], "url": f"{files}/{o['name']}", "count": o["count"]}
                  for o in job["errors"]],
    }


async def poll(request: Request, job_id: str) -> Response:
    export = request.app.state.export
    job = await _job(request, job_id)
    retry = str(export.timings.retry_after)
    if job["status"] in ACTIVE:
        if not await export.jobs.polled(job_id):
            raise TooManyRequests("Polled too often; wait for Retry-After seconds",
                                  headers={"Retry-After": retry})
        return Response(status_code=202, headers={
            "X-Progress": f"{job['status']}: {job.get('progress', '')}"[:200],
            "Retry-After": retry})
    if job["status"] == "failed":
        raise _JobFailed(f"The export failed: {job.get('failure', 'unknown error')}")
    return JSONResponse(_manifest(request, job), headers={
        "Expires": format_datetime(job["expires"], usegmt=True)})


class _JobFailed(FhirError):
    status, code = 500, "exception"


async def cancel(request: Request, job_id: str) -> Response:
    export = request.app.state.export
    job = await _job(request, job_id)
    if not await export.jobs.cancel(job["_id"]):
        raise NotFound(f"No export job '{job_id[:64]}'")
    if job["status"] not in ACTIVE:
        await export.outputs.delete_job(job["_id"])
    export.worker.wake.set()
    return Response(status_code=202)


async def download(request: Request, job_id: str, name: str) -> Response:
    export = request.app.state.export
    job = await _job(request, job_id)
    names = {o["name"] for o in [*job["outputs"], *job["errors"]]}
    if job["status"] != "completed" or name not in names:
        raise NotFound(f"No file '{name[:64]}' in export job {job_id}")
    return StreamingResponse(export.outputs.chunks(job["_id"], name), media_type=NDJSON)


async def dispatch(request: Request, method: str, segments: list[str]) -> Response:
    """Route ``$export-poll-status`` and ``$export-file/...`` requests."""
    if segments[0] == STATUS and len(segments) == 1:
        job_id = request.query_params.get("_job", "")
        if not job_id:
            raise InvalidRequest("The status URL needs _job")
        if method == "GET":
            return await poll(request, job_id)
        if method == "DELETE":
            return await cancel(request, job_id)
        raise MethodNotAllowed(f"{method} is not supported on {STATUS}",
                               headers={"Allow": "DELETE, GET"})
    if segments[0] == FILE and len(segments) == 3:
        if method != "GET":
            raise MethodNotAllowed(f"{method} is not supported on export files",
                                   headers={"Allow": "GET"})
        return await download(request, segments[1], segments[2])
    raise NotFound(f"Unknown path '/{'/'.join(segments)[:200]}'")
