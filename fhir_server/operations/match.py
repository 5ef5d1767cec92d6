"""``POST Patient/$match`` (R4 https://hl7.org/fhir/R4/patient-operation-match.html).

In: a ``Parameters`` with ``resource`` (the Patient to match, 1..1), ``onlyCertainMatches``
(boolean) and ``count`` (integer); a bare Patient body is taken as ``resource``. Out: a
``searchset`` Bundle of the candidates the caller may see, best first, each entry with
``search.mode = match``, ``search.score`` (0..1) and the ``match-grade`` extension
(certain, probable, possible), as :mod:`fhir_server.interactions.match` finds and scores
them (docs/identity.md). With ``onlyCertainMatches=true`` the one ``certain`` match, or none
when several are certain (the spec: "the match should not return the results"), with an
OperationOutcome entry saying why. ``count`` defaults to 10 and is capped at 100.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .. import clock, interactions
from ..errors import InvalidRequest, Issue, MethodNotAllowed, operation_outcome
from ..interactions.match import Match, match_patients
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import Operation, OperationCall

__all__ = ["OPERATIONS"]

DEFINITION = "http://hl7.org/fhir/OperationDefinition/Patient-match"
DEFAULT_COUNT, MAX_COUNT = 10, 100
_IGNORED = ("_format", "_pretty")


def _arguments(call: OperationCall) -> tuple[dict[str, Any], bool, int]:
    """(the Patient, onlyCertainMatches, count) of a call; 400 when malformed."""
    body = call.body or {}
    patient = body if body.get("resourceType") == "Patient" else None
    only_certain, count = False, DEFAULT_COUNT
    for name, value in call.parameters:
        if name in _IGNORED:
            continue
        given = value if isinstance(value, dict) else {}
        if name == "resource" and patient is None:
            patient = given.get("resource")
            if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
                raise InvalidRequest("$match: the 'resource' parameter must be a Patient")
        elif name == "onlyCertainMatches" and isinstance(given.get("valueBoolean"), bool):
            only_certain = given["valueBoolean"]
        elif name == "count" and type(given.get("valueInteger")) is int and \
                given["valueInteger"] > 0:
            count = min(given["valueInteger"], MAX_COUNT)
        else:
            raise InvalidRequest(f"$match: parameter '{str(name)[:60]}' is not one of "
                                 "resource (Patient), onlyCertainMatches (valueBoolean), "
                                 "count (positive valueInteger)")
    if patient is None:
        raise InvalidRequest("$match needs the Patient to match: a Parameters body with a "
                             "'resource' parameter")
    return patient, only_certain, count


def _entry(base: str, match: Match) -> dict[str, Any]:
    return {"fullUrl": f"{base}/Patient/{match.resource['id']}", "resource": match.resource,
            "search": {"extension": [match.result.extension()], "mode": "match",
                       "score": match.result.score}}


def _outcome(message: str) -> dict[str, Any]:
    outcome = operation_outcome([Issue("information", "informational", message)])
    return {"resource": outcome, "search": {"mode": "outcome"}}


async def match(call: OperationCall) -> Response:
    media = check_accept(call.request)
    if call.request.method != "POST":
        raise MethodNotAllowed("$match takes the Patient in a POSTed Parameters body")
    patient, only_certain, count = _arguments(call)
    interactions.validate(call.caller, {k: v for k, v in patient.items() if k != "id"})
    matches = await match_patients(call.caller, patient)
    notes = []
    if only_certain:
        certain = [m for m in matches if m.result.grade == "certain"]
        if len(certain) > 1:
            notes.append(f"{len(certain)} records match with certainty: none is returned "
                         "with onlyCertainMatches (they may be duplicates to merge)")
        matches = certain if len(certain) == 1 else []
    matches = matches[:count]
    base = call.services.base
    entries = [_entry(base, m) for m in matches] + [_outcome(n) for n in notes]
    bundle = {"resourceType": "Bundle", "meta": {"lastUpdated": clock.to_instant(clock.now())},
              "type": "searchset", "total": len(matches), **({"entry": entries} if entries
                                                             else {})}
    return fhir_response(bundle, 200, request=call.request, media_type=media)


OPERATIONS = [Operation("match", match, type_level=True, resource_types=frozenset({"Patient"}),
                        definition=DEFINITION)]
