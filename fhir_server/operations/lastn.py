"""``Observation/$lastn`` (R4 observation-operation-lastn): the ``max`` (default 1) most
recent Observations of each code, with the usual Observation search parameters (a
patient or subject is required, as the operation asks); ties on the date keep all.
Returns a ``searchset`` Bundle, through the caller's access policy.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..errors import InvalidRequest
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import Operation, OperationCall
from ._patient_record import MAX_RESOURCES, parameter_text

__all__ = ["OPERATIONS"]

DEFINITION = "http://hl7.org/fhir/OperationDefinition/Observation-lastn"
_SUBJECTS = ("patient", "subject")


def _code_key(observation: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    codings = (observation.get("code") or {}).get("coding") or []
    key = tuple(sorted((str(c.get("system", "")), str(c.get("code", ""))) for c in codings
                       if isinstance(c, dict)))
    return key or (("", (observation.get("code") or {}).get("text", "")),)


def _when(observation: dict[str, Any]) -> str:
    return str(observation.get("effectiveDateTime")
               or (observation.get("effectivePeriod") or {}).get("start")
               or observation.get("effectiveInstant") or observation.get("issued") or "")


async def lastn(call: OperationCall) -> Response:
    media = check_accept(call.request)
    max_count = 1
    params: list[tuple[str, str]] = []
    for name, value in call.parameters:
        if name == "max":
            text = parameter_text(value)
            if not text.isdigit() or int(text) < 1:
                raise InvalidRequest("max is a positive integer")
            max_count = int(text)
        elif name not in ("_format", "_pretty"):
            params.append((name, parameter_text(value)))
    if not any(n.split(":")[0] in _SUBJECTS for n, _ in params):
        raise InvalidRequest("$lastn needs a patient or subject")
    found = await call.services.search.resources(
        call.policy, "Observation", [*params, ("_sort", "-date")], limit=MAX_RESOURCES)
    kept: dict[tuple[tuple[str, str], ...], list[dict[str, Any]]] = {}
    for observation in found:
        group = kept.setdefault(_code_key(observation), [])
        if len(group) < max_count or _when(group[-1]) == _when(observation):
            group.append(observation)
    base = call.services.base
    entries = [{"fullUrl": f"{base}/Observation/{o['id']}", "resource": o,
                "search": {"mode": "match"}} for group in kept.values() for o in group]
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(entries),
              "entry": entries}
    return fhir_response(bundle, 200, request=call.request, media_type=media)


OPERATIONS = [Operation("lastn", lastn, type_level=True,
                        resource_types=frozenset({"Observation"}), definition=DEFINITION)]
