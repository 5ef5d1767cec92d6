"""``$export`` kick-off at system, ``Patient`` and ``Group/[id]`` level (Bulk Data Access
2.0, "Bulk Data Kick-off Request").

The request must ask ``Prefer: respond-async`` and accept FHIR JSON. Its parameters are
checked (:mod:`fhir_server.export.parameters`), the ``_typeFilter`` queries compiled once
to report bad ones now, and the caller's access token is kept with the job: the worker
rebuilds the caller's access policy from it, so the export shows exactly what the caller
may see when it runs (scopes, Consents, masking). System and Group level need a
``system/`` scope that can read everything; a patient-context token exports its own
compartment only. The answer is 202 with the absolute status URL in
``Content-Location``; an owner (client and user) with ``FHIR_EXPORT_MAX_JOBS`` exports
still running (3 by default) is answered 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response

from .. import interactions
from ..access import RequestPolicy
from ..access.grants import Grant, grants_for
from ..errors import Forbidden, InvalidRequest, NotFound, TooManyRequests
from ..export.http import status_url
from ..export.parameters import ExportParameters, parse_parameters
from ..rest.negotiation import check_accept
from . import Operation, OperationCall

__all__ = ["OPERATIONS"]

DEFINITION = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"


def _prefer(call: OperationCall) -> tuple[bool, bool]:
    """(respond-async asked, lenient handling asked) from the Prefer header(s)."""
    tokens = [t.strip().lower() for t in ",".join(call.request.headers.getlist("prefer"))
              .replace(";", ",").split(",")]
    return "respond-async" in tokens, "handling=lenient" in tokens


def _level(call: OperationCall) -> str:
    if call.resource_type is None:
        return "system"
    if call.resource_type == "Patient" and call.id is None:
        return "patient"
    if call.resource_type == "Group":
        if call.id is None:
            raise InvalidRequest("Group export needs the Group: [base]/Group/[id]/$export")
        return "group"
    raise NotFound("$export is offered at [base]/$export, [base]/Patient/$export and "
                   "[base]/Group/[id]/$export")


def _authorize(call: OperationCall, params: ExportParameters) -> None:
    if not isinstance(call.policy, RequestPolicy):
        return
    context = call.policy.token.context
    if context.patient is not None and not any(
            s.context == "system" for s in context.scopes.resources):
        if params.level != "patient":
            raise Forbidden("A patient-context token can export its own record only "
                            "(Patient/$export)")
        if params.patients not in (None, [context.patient]):
            raise Forbidden("A patient-context token can export its own record only")
        params.patients = [context.patient]
        return
    system = [s for s in context.scopes.granting("r", "*") if s.context == "system"]
    if not system or grants_for(context, "s", "*") != [Grant()]:
        raise Forbidden("Bulk export needs a system/*.rs (or system/*.read) scope",
                        headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'})


async def _group_members(call: OperationCall) -> list[str]:
    """The ids of the Patients a Group lists as members (Group.member.entity)."""
    stored = await interactions.read(call.caller, "Group", call.id or "")
    assert stored.resource is not None
    members = []
    for member in stored.resource.get("member", []):
        reference = member.get("entity", {}).get("reference", "")
        parts = reference.removeprefix(call.services.base + "/").split("/")
        if len(parts) == 2 and parts[0] == "Patient":
            members.append(parts[1])
    return members


async def _check_filters(call: OperationCall, params: ExportParameters) -> None:
    for resource_type, queries in params.type_filters.items():
        for query in queries:
            await call.services.search.query_filter(
                call.policy, resource_type, parse_qsl(query, keep_blank_values=True))


def _job_document(call: OperationCall, params: ExportParameters) -> dict[str, Any]:
    access = (call.policy.token.context.to_document()
              if isinstance(call.policy, RequestPolicy) else None)
    return {
        "owner": call.policy.owner(), "access": access, "request": str(call.request.url),
        "method": call.request.method, "level": params.level, "since": params.since,
        "types": params.types, "type_filters": params.type_filters,
        "elements": params.elements, "patients": params.patients,
        "associated": params.associated, "notes": params.notes,
    }


async def export(call: OperationCall) -> Response:
    check_accept(call.request)
    respond_async, lenient = _prefer(call)
    if not respond_async:
        raise InvalidRequest("$export is asynchronous: send 'Prefer: respond-async'")
    params = parse_parameters(_level(call), call.parameters, lenient)
    _authorize(call, params)
    if params.level == "group":
        members = await _group_members(call)
        params.patients = ([p for p in params.patients if p in members]
                           if params.patients is not None else members)
    await _check_filters(call, params)
    export_service = call.request.app.state.export
    limit = export_service.timings.max_jobs
    job = await export_service.jobs.create_within_limit(_job_document(call, params), limit)
    if job is None:
        retry = str(export_service.timings.retry_after * 5)
        raise TooManyRequests(f"{limit} of your exports are queued or running (the limit, "
                              "FHIR_EXPORT_MAX_JOBS); wait for one or cancel it",
                              headers={"Retry-After": retry})
    export_service.worker.wake.set()
    return Response(status_code=202, headers={
        "Content-Location": status_url(call.services.base, job["_id"])})


OPERATIONS = [Operation("export", export, system=True, type_level=True, instance=True,
                        resource_types=frozenset({"Patient", "Group"}),
                        definition=DEFINITION)]
