"""``$reindex`` (system and type level): re-extract search indexes in the background.

``POST [base]/$reindex`` or ``POST [base]/[type]/$reindex`` puts the SearchParameter
resources stored on the server in force (so custom parameters become searchable and
appear in the CapabilityStatement) and starts a job; the answer is 202 with the job's
status URL in ``Content-Location``. ``GET ...$reindex?job=[id]`` reports its progress.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..errors import InvalidRequest, MethodNotAllowed, NotFound
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from ..search.reindex import job_status, start_reindex
from . import Operation, OperationCall

__all__ = ["OPERATIONS"]


def _parameters(job: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": "job", "valueString": job["_id"]},
        {"name": "status", "valueCode": job["status"]},
        {"name": "processed", "valueInteger": job["processed"]},
        {"name": "total", "valueInteger": job["total"]},
    ]
    parameters += [{"name": "type", "valueCode": t} for t in job["types"]]
    parameters += [{"name": "searchParameter", "valueString": a} for a in job["accepted"]]
    parameters += [{"name": "rejected", "valueString": r} for r in job["rejected"]]
    if job.get("error"):
        parameters.append({"name": "error", "valueString": job["error"]})
    return {"resourceType": "Parameters", "parameter": parameters}


def _job_parameter(call: OperationCall) -> str | None:
    for name, value in call.parameters:
        if name == "job":
            if isinstance(value, dict):
                value = value.get("valueString") or value.get("valueId")
            return str(value)
    return None


async def reindex(call: OperationCall) -> Response:
    media = check_accept(call.request)
    engine = call.services.search
    job_id = _job_parameter(call)
    if job_id is not None:
        job = await job_status(call.services.storage, job_id)
        if job is None:
            raise NotFound(f"No reindex job '{job_id[:80]}'")
        return fhir_response(_parameters(job), 200, request=call.request, media_type=media)
    if call.request.method != "POST":
        raise MethodNotAllowed("POST $reindex to start a reindex; GET $reindex?job=[id] for "
                               "its progress")
    unknown = [name for name, _ in call.parameters if name not in ("_format", "_pretty")]
    if unknown:
        raise InvalidRequest(f"Unknown $reindex parameter(s): {', '.join(unknown)[:200]}")
    job = await start_reindex(engine, call.services.storage,  # type: ignore[arg-type]
                            call.resource_type)
    where = f"{call.resource_type}/" if call.resource_type else ""
    location = f"{call.services.base}/{where}$reindex?job={job['_id']}"
    return fhir_response(_parameters(job), 202, {"Content-Location": location},
                         request=call.request, media_type=media)


OPERATIONS = [Operation("reindex", reindex, system=True, type_level=True)]
