"""``Patient/[id]/$everything`` and ``Patient/$everything`` (R4 patient-operation-everything).

The patient(s), every resource in their Patient compartment (R4
CompartmentDefinition/patient; the search index stores each resource's compartments, see
:mod:`fhir_server.search.compartments`), and the Practitioners, Organizations, Locations and
Medications those resources reference (``search.mode = include``, fetched per page). Every
query runs through storage with the caller's access policy. ``_since``,
``_type`` and ``_count`` are supported; the type-level call takes a ``patient`` list (R5's
parameter; without it, every patient). Paging is keyset: the ``next`` link carries the resource type
and id to continue after, nothing is kept on the server.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from pymongo import ASCENDING
from starlette.responses import Response

from .. import interactions
from ..access import AccessPolicy, Hints
from ..dates import parse_instant
from ..errors import InvalidRequest
from ..ids import check_id
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from ..search import compartment_filter
from ..search.compartments import COMPARTMENTS_FIELD, compartment_definitions
from . import Operation, OperationCall

__all__ = ["OPERATIONS"]

INCLUDED_TYPES = ("Practitioner", "Organization", "Location", "Medication")
DEFINITION = "http://hl7.org/fhir/OperationDefinition/Patient-everything"
_UNSUPPORTED = ("start", "end")


def _compartment(resource_type: str, patients: list[str] | None) -> dict[str, Any] | None:
    """The filter for ``resource_type`` documents in these patients' compartments (any
    patient's when ``patients`` is None); None when the type is never in one. Uses the
    compartment memberships the search index stores with each resource."""
    if patients is None:
        if compartment_filter(resource_type, "Patient", "-") is None:
            return None
        return {COMPARTMENTS_FIELD: {"$regex": "^Patient/"}}
    clauses = [compartment_filter(resource_type, "Patient", p) for p in patients]
    if clauses[0] is None:
        return None
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def _types(requested: set[str] | None) -> list[str]:
    """Patient first, then the other compartment types alphabetically (the access log,
    AuditEvent, only when ``_type`` asks for it)."""
    others = sorted(t for t in compartment_definitions()["Patient"] if t != "Patient")
    return [t for t in ["Patient", *others] if t in requested] if requested is not None \
        else [t for t in ["Patient", *others] if t != "AuditEvent"]


def _value(value: Any) -> str:
    if isinstance(value, dict):  # a Parameters.parameter from a POST
        return next((str(v) for k, v in value.items() if k.startswith("value")), "")
    return str(value)


class _Request:
    """The parameters of one call, checked."""

    def __init__(self, call: OperationCall) -> None:
        settings = call.services.settings
        self.count = settings.default_page_size
        self.since: datetime | None = None
        self.types: set[str] | None = None
        self.patients: list[str] | None = [check_id(call.id)] if call.id else None
        self.cursor: tuple[str, str] | None = None
        for name, raw in call.parameters:
            self._read(name, _value(raw), settings.max_page_size, call.id is None)

    def _read(self, name: str, value: str, max_count: int, type_level: bool) -> None:
        if name == "_count":
            if not value.isdigit():
                raise InvalidRequest(f"_count must be a non-negative integer, not '{value}'")
            self.count = min(int(value), max_count)
        elif name == "_since":
            self.since = parse_instant(value, "_since")
        elif name == "_type":
            self.types = (self.types or set()) | {t.strip() for t in value.split(",") if t}
        elif name == "patient" and type_level:
            found = [check_id(p.strip().removeprefix("Patient/")) for p in value.split(",")]
            self.patients = (self.patients or []) + found
        elif name == "_cursor":
            self.cursor = _decode_cursor(value)
        elif name in _UNSUPPORTED:
            raise InvalidRequest(f"$everything parameter '{name}' (care dates) is not "
                                 "supported by this server")
        elif name not in ("_format", "_pretty"):
            raise InvalidRequest(f"Unknown $everything parameter '{name[:60]}'")


def _encode_cursor(resource_type: str, rid: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([resource_type, rid])).decode().rstrip("=")


def _decode_cursor(token: str) -> tuple[str, str]:
    try:
        value = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        resource_type, rid = value
        if resource_type not in compartment_definitions()["Patient"] or not isinstance(
                rid, str):
            raise ValueError
        return resource_type, rid
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidRequest("Invalid $everything paging cursor") from None


async def _page(call: OperationCall, policy: AccessPolicy, params: _Request
                ) -> tuple[list[tuple[str, dict[str, Any]]], tuple[str, str] | None]:
    """Up to ``count`` compartment resources after the cursor, and the next cursor."""
    queries = call.services.storage.queries
    existing = await queries.stored_types()
    types = _types(params.types)
    start_type, after = params.cursor or (types[0] if types else "", None)
    found: list[tuple[str, dict[str, Any]]] = []
    for resource_type in types[types.index(start_type) if start_type in types else 0:]:
        query = _compartment(resource_type, params.patients)
        if query is None or resource_type not in existing:
            continue
        clauses = [query]
        if params.since is not None:
            clauses.append({"lastUpdated": {"$gte": params.since}})
        if after is not None and resource_type == start_type:
            clauses.append({"_id": {"$gt": after}})
        wanted = params.count + 1 - len(found)
        matches = await queries.find(policy, resource_type, {"$and": clauses},
                                     sort=[("_id", ASCENDING)], limit=wanted)
        found.extend((resource_type, f.resource) for f in matches)
        if len(found) > params.count:
            break
    if len(found) > params.count:
        last_type, last = found[params.count - 1]
        return found[:params.count], (last_type, last["id"])
    return found, None


def _references(node: Any, base: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                parts = value.removeprefix(base + "/").split("/")
                if len(parts) >= 2 and parts[0] in INCLUDED_TYPES:
                    found.add((parts[0], parts[1]))
            else:
                found |= _references(value, base)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item, base)
    return found


async def _included(call: OperationCall, policy: AccessPolicy, params: _Request,
                    page: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The Practitioners, Organizations, Locations and Medications the page refers to."""
    wanted: set[tuple[str, str]] = set()
    for _, resource in page:
        wanted |= _references(resource, call.services.base)
    wanted -= {(t, r["id"]) for t, r in page}
    included = []
    for resource_type in INCLUDED_TYPES:
        if params.types is not None and resource_type not in params.types:
            continue
        ids = sorted(rid for t, rid in wanted if t == resource_type)
        if ids:
            matches = await call.services.storage.queries.find(
                policy, resource_type, {"_id": {"$in": ids}})
            included.extend((resource_type, f.resource) for f in matches)
    return included


def _links(call: OperationCall, next_cursor: tuple[str, str] | None) -> list[dict[str, str]]:
    request = call.request
    where = f"{call.services.base}/Patient/{call.id + '/' if call.id else ''}$everything"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "_cursor"]
    links = [{"relation": "self", "url": f"{where}?{urlencode(params)}".rstrip("?")}]
    if next_cursor is not None:
        following = urlencode([*params, ("_cursor", _encode_cursor(*next_cursor))])
        links.append({"relation": "next", "url": f"{where}?{following}"})
    return links


def _entry(base: str, resource_type: str, resource: dict[str, Any], mode: str
           ) -> dict[str, Any]:
    return {"fullUrl": f"{base}/{resource_type}/{resource['id']}", "resource": resource,
            "search": {"mode": mode}}


async def everything(call: OperationCall) -> Response:
    media = check_accept(call.request)
    params = _Request(call)
    if call.id is not None:
        await interactions.read(call.caller, "Patient", call.id)  # 404 / 410 first
    patients = None if params.patients is None else frozenset(params.patients)
    policy = call.policy.narrowed(Hints(patients, content=False))
    page, next_cursor = await _page(call, policy, params)
    included = await _included(call, policy, params, page)
    base = call.services.base
    bundle = {
        "resourceType": "Bundle", "type": "searchset",
        "link": _links(call, next_cursor),
        "entry": [_entry(base, t, r, "match") for t, r in page]
        + [_entry(base, t, r, "include") for t, r in included],
    }
    return fhir_response(bundle, 200, request=call.request, media_type=media)


OPERATIONS = [Operation("everything", everything, type_level=True, instance=True,
                        resource_types=frozenset({"Patient"}), definition=DEFINITION)]
