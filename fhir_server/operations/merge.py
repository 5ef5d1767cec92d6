"""``POST Patient/$merge``: the R5 Patient merge operation
(https://hl7.org/fhir/R5/patient-operation-merge.html) on this R4 server.

In (a ``Parameters`` body): ``source-patient`` (valueReference) and/or
``source-patient-identifier`` (valueIdentifier, 0..*: all must find the same one Patient,
else 422), the same for ``target-patient``; ``result-patient`` (the target as it should be
afterwards: the target's id; the ``replaces`` link is added if missing); ``preview``
(valueBoolean). Out: a ``Parameters`` with ``input`` (the request), ``outcome`` (what was
done, or for a preview what would be: each moved resource) and ``result`` (the target).
The work is :func:`fhir_server.interactions.merge.merge_patients` (one transaction, the
caller's access policy); a completed merge is audited with an AuditEvent naming the two
patients at their new versions and every moved resource, appended to the audit trail.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .. import clock
from ..errors import (
    BusinessRuleViolation,
    InvalidRequest,
    Issue,
    MethodNotAllowed,
    operation_outcome,
)
from ..ids import check_id
from ..interactions.merge import MergeResult, merge_patients
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from ..storage import StoredResource
from . import Operation, OperationCall

__all__ = ["OPERATIONS"]

DEFINITION = "https://mch-fhir.org/fhir/OperationDefinition/Patient-merge"
_IGNORED = ("_format", "_pretty")
_KNOWN = ("source-patient", "source-patient-identifier", "target-patient",
          "target-patient-identifier", "result-patient", "preview")
_OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
_MAX_LISTED = 1000


def _escaped(value: str) -> str:
    for char in ("\\", "|", ",", "$"):
        value = value.replace(char, "\\" + char)
    return value


def _reference_id(call: OperationCall, reference: Any, name: str) -> str:
    text = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(text, str):
        raise InvalidRequest(f"{name} is a valueReference with a reference")
    local = text.removeprefix(call.services.base.rstrip("/") + "/")
    kind, _, rid = local.partition("/")
    if kind != "Patient" or not rid or "/" in rid:
        raise InvalidRequest(f"{name} must reference a Patient of this server, not "
                             f"'{text[:120]}'")
    return check_id(rid)


async def _identified(call: OperationCall, identifiers: list[Any], name: str) -> str:
    """The one visible Patient holding every identifier (422 otherwise)."""
    found: set[str] = set()
    for identifier in identifiers:
        if not isinstance(identifier, dict) or not isinstance(identifier.get("value"), str):
            raise InvalidRequest(f"{name} is a valueIdentifier with a value")
        system = identifier.get("system")
        token = (f"{_escaped(system)}|" if isinstance(system, str) else "") + \
            _escaped(identifier["value"])
        ids = await call.services.search.match_ids(call.policy, "Patient",
                                                   [("identifier", token)], 2)
        if len(ids) != 1:
            raise BusinessRuleViolation(f"{name} {token[:120]} does not resolve to a single "
                                        f"Patient ({'none' if not ids else 'several'} found)")
        found.update(ids)
    if len(found) != 1:
        raise BusinessRuleViolation(f"The {name}s resolve to different Patients")
    return found.pop()


async def _patient(call: OperationCall, given: dict[str, list[Any]], which: str) -> str:
    references = given.get(f"{which}-patient", [])
    identifiers = given.get(f"{which}-patient-identifier", [])
    if len(references) > 1:
        raise InvalidRequest(f"{which}-patient is given more than once")
    rid = _reference_id(call, references[0], f"{which}-patient") if references else None
    if identifiers:
        found = await _identified(call, identifiers, f"{which}-patient-identifier")
        if rid is not None and rid != found:
            raise BusinessRuleViolation(f"{which}-patient and {which}-patient-identifier name "
                                        "different Patients")
        rid = found
    if rid is None:
        raise InvalidRequest(f"$merge needs {which}-patient or {which}-patient-identifier")
    return rid


def _parameters(call: OperationCall) -> dict[str, list[Any]]:
    if call.request.method != "POST":
        raise MethodNotAllowed("$merge changes data: POST a Parameters body")
    if (call.body or {}).get("resourceType") != "Parameters":
        raise InvalidRequest("$merge takes a Parameters body")
    given: dict[str, list[Any]] = {}
    for name, value in call.parameters:
        if name in _IGNORED:
            continue
        if name not in _KNOWN or not isinstance(value, dict):
            raise InvalidRequest(f"Unknown $merge parameter '{str(name)[:60]}' (known: "
                                 f"{', '.join(_KNOWN)})")
        key = {"result-patient": "resource", "preview": "valueBoolean"}.get(
            name, "valueIdentifier" if name.endswith("identifier") else "valueReference")
        given.setdefault(name, []).append(value.get(key))
    return given


def _versioned(stored: StoredResource) -> str:
    return f"{stored.resource_type}/{stored.id}/_history/{stored.vid}"


def _outcome(merged: MergeResult, source: str, target: str) -> dict[str, Any]:
    verb = "would be" if merged.preview else "was"
    issues = [Issue("information", "informational",
                    f"{'Preview: ' if merged.preview else ''}Patient/{source} {verb} merged "
                    f"into Patient/{target}: {len(merged.moved)} resources re-pointed, the "
                    f"source made inactive with a replaced-by link, the target given a "
                    f"replaces link and {merged.copied_identifiers} of the source's "
                    "identifiers (use old). Every change is a new version; the previous "
                    "versions stay in each resource's history.")]
    issues += [Issue("information", "informational",
                     f"{_versioned(m)} {'would reference' if merged.preview else 'references'}"
                     f" Patient/{target}", (f"{m.resource_type}/{m.id}",))
               for m in merged.moved[:_MAX_LISTED]]
    return operation_outcome(issues)


def _audit_event(call: OperationCall, merged: MergeResult) -> dict[str, Any]:
    owner = call.policy.owner()
    who = ({"reference": owner["fhir_user"]} if owner.get("fhir_user") else
           {"identifier": {"system": "urn:ietf:params:oauth:client-id",
                           "value": owner.get("client_id") or "anonymous"}})

    def entity(stored: StoredResource, role: str, display: str, description: str
               ) -> dict[str, Any]:
        return {"what": {"reference": _versioned(stored)},
                "type": {"system": _ENTITY_TYPE, "code": "2", "display": "System Object"},
                "role": {"system": _OBJECT_ROLE, "code": role, "display": display},
                "description": description}

    return {
        "resourceType": "AuditEvent",
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
                 "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": "operation",
                     "display": "operation"}],
        "action": "U", "recorded": clock.to_instant(clock.now()), "outcome": "0",
        "outcomeDesc": f"$merge: Patient/{merged.source.id} merged into "
                       f"Patient/{merged.target.id}; {len(merged.moved)} resources re-pointed",
        "agent": [{"who": who, "requestor": True}],
        "source": {"observer": {"display": "fhir-server"}},
        "entity": [entity(merged.source, "1", "Patient", "merge source (now inactive)"),
                   entity(merged.target, "1", "Patient", "merge target (survivor)"),
                   *(entity(m, "4", "Domain Resource", "re-pointed to the target")
                     for m in merged.moved[:_MAX_LISTED])]}


async def merge(call: OperationCall) -> Response:
    media = check_accept(call.request)
    given = _parameters(call)
    source = await _patient(call, given, "source")
    target = await _patient(call, given, "target")
    results = given.get("result-patient", [])
    if len(results) > 1 or (results and (not isinstance(results[0], dict) or
                                         results[0].get("resourceType") != "Patient")):
        raise InvalidRequest("result-patient is one Patient resource")
    previews = given.get("preview", [])
    if previews and not isinstance(previews[0], bool):
        raise InvalidRequest("preview is a valueBoolean")
    preview = bool(previews and previews[0])
    merged = await merge_patients(call.caller, source, target,
                                  result=results[0] if results else None, preview=preview)
    if not preview:
        await call.services.storage.audit.append_all([_audit_event(call, merged)])
    assert merged.target.resource is not None
    answer = {"resourceType": "Parameters", "parameter": [
        {"name": "input", "resource": call.body},
        {"name": "outcome", "resource": _outcome(merged, source, target)},
        {"name": "result", "resource": merged.target.resource}]}
    return fhir_response(answer, 200, request=call.request, media_type=media)


OPERATIONS = [Operation("merge", merge, type_level=True, resource_types=frozenset({"Patient"}),
                        definition=DEFINITION, affects_state=True)]
