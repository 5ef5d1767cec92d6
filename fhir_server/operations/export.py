"""``$export`` kick-off at system, ``Patient`` and ``Group/[id]`` level (Bulk Data Access
2.0, "Bulk Data Kick-off Request").

The request must ask ``Prefer: respond-async`` and accept FHIR JSON. Its parameters are
checked (:mod:`fhir_server.export.parameters`), the ``_typeFilter`` queries compiled once
to report bad ones now, and the caller's access restriction (SMART scopes, consent) is
captured with the job, so the worker's queries show exactly what the caller may see.
System and Group level need a ``system/`` scope that can read everything; a
patient-context token exports its own compartment only. The answer is 202 with the
absolute status URL in ``Content-Location``; a client with an export still running is
answered 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import bson
from starlette.responses import Response

from ..auth.context import access_context
from ..auth.grants import Grant, grants_for
from ..auth.restriction import search_restriction
from ..errors import Forbidden, InvalidRequest, NotFound, TooManyRequests
from ..export.http import owner_of, status_url
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
    if call.resource_type == "Group" and call.id is not None:
        return "group"
    raise NotFound("$export is offered at [base]/$export, [base]/Patient/$export and "
                   "[base]/Group/[id]/$export")


def _authorize(call: OperationCall, params: ExportParameters) -> None:
    context = access_context(call.request)
    if context is None:
        return
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
    stored = await call.services.repository.read("Group", call.id or "")
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
                resource_type, parse_qsl(query, keep_blank_values=True))


async def _restriction(call: OperationCall) -> bytes | None:
    restriction = await search_restriction(call.request, None)
    return None if restriction is None else bson.encode({"filter": restriction})


def _job_document(call: OperationCall, params: ExportParameters) -> dict[str, Any]:
    return {
        "owner": owner_of(call.request), "request": str(call.request.url),
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
    owner = owner_of(call.request)
    if await export_service.jobs.active_of(owner["client_id"]) is not None:
        retry = str(export_service.timings.retry_after * 5)
        raise TooManyRequests("An export of this client is still running; wait for it or "
                              "cancel it", headers={"Retry-After": retry})
    document = _job_document(call, params)
    document["restriction"] = await _restriction(call)
    job = await export_service.jobs.create(document)
    export_service.worker.wake.set()
    return Response(status_code=202, headers={
        "Content-Location": status_url(call.services.base, job["_id"])})


OPERATIONS = [Operation("export", export, system=True, type_level=True, instance=True,
                        resource_types=frozenset({"Patient", "Group"}),
                        definition=DEFINITION)]
