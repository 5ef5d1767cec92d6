"""Consent enforcement at each place the server discloses data.

* :func:`with_consent`: the search restriction ANDed with the consent filter (searches,
  includes, ``$everything``): hidden data is never matched, counted or paged.
* :class:`PrivacyGuard`: the repository's check of single resources (read, vread, reads
  inside writes and bundles): a denied resource is 404; AuditEvents cannot be written
  through the API.
* :func:`check_history`: instance history needs every version visible; type and system
  history are refused while Consents hide something from the actor.
* :func:`disclose`: the response hook: masked resources are masked, break-glass
  responses carry the ``BTG`` security label.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.requests import Request

from consent import DENY, TRUE, decide, evaluate, mask
from consent.codes import ACT_REASON

from ..auth.interactions import interaction_of
from ..database import HISTORY
from ..errors import Forbidden, MethodNotAllowed, NotFound
from ..json_io import from_bson
from .context import PrivacyRequest, current_privacy
from .filters import merge, search_filter

__all__ = ["with_consent", "PrivacyGuard", "check_history", "disclose",
           "BREAK_GLASS_LABEL", "check_resource"]

BREAK_GLASS_LABEL = {"system": ACT_REASON, "code": "BTG", "display": "break the glass"}
_PATIENT_PARAMETERS = ("patient", "subject", "beneficiary")
_RESULT_PARAMETERS = frozenset({"_id", "_lastUpdated", "_count", "_sort", "_include",
                                "_revinclude", "_total", "_summary", "_elements", "_format",
                                "_pretty", "_page", "_cursor", "_offset", "_contained",
                                "_containedType", "_type", "_since"})


def _includes(request: Request) -> bool:
    return any(name.split(":")[0] in ("_include", "_revinclude")
               for name in request.query_params)


def _named_patients(request: Request, resource_type: str | None) -> set[str]:
    """The patients a search names in ``patient``, ``subject``, ... (or Patient ``_id``)."""
    found: set[str] = set()
    for name, value in request.query_params.multi_items():
        code = name.split(":")[0]
        if "." in name or not (code in _PATIENT_PARAMETERS
                               or (resource_type == "Patient" and code == "_id")):
            continue
        for item in value.split(","):
            item = item.strip().rstrip("/")
            if "/Patient/" in f"/{item}":
                found.add(item.rsplit("/", 1)[-1])
            elif item and "/" not in item and code in ("patient", "_id"):
                found.add(item)
    return found


def _candidates(request: Request, segments: list[str], resource_type: str | None,
                privacy: PrivacyRequest) -> set[str] | None:
    """The patients whose data the request can return; None when it may be anyone's
    (population searches, and ``_include``/``_revinclude``, which follow references)."""
    if _includes(request):
        return None
    found = _named_patients(request, resource_type)
    if privacy.access.patient:
        found.add(privacy.access.patient)
    if len(segments) >= 2 and segments[0] == "Patient" and not segments[1].startswith(
            ("$", "_")):
        found.add(segments[1])
    return found or None


def _content_search(request: Request) -> bool:
    """Whether a search tests resource content (so masked data must not match it)."""
    return any(name.split(":")[0].split(".")[0] not in _RESULT_PARAMETERS
               and name.split(":")[0] not in _PATIENT_PARAMETERS
               for name in request.query_params)


async def with_consent(request: Request, restriction: dict[str, Any] | None
                       ) -> dict[str, Any] | None:
    """The token's search restriction ANDed with what the patients' Consents allow.

    Reads the Consents of the patients the request names (the token's patient,
    ``Patient/<id>/...``, ``patient=`` / ``subject=``), or of every patient for
    population searches and searches with ``_include``/``_revinclude``.
    """
    privacy = current_privacy.get()
    if privacy is None:
        return restriction
    segments = [unquote(s) for s in request.url.path.split("/")[2:] if s]
    interaction, resource_type = interaction_of("GET", segments)
    patients = _candidates(request, segments, resource_type, privacy)
    await privacy.load(patients)
    hide_masked = _content_search(request)
    expression = privacy.visible(hide_masked=hide_masked, ignore_override=True)
    restricted = expression != TRUE
    what = f"{request.method} {request.url.path}" + (
        f"?{request.url.query}" if request.url.query else "")
    if not privacy.decisions or privacy.decisions[-1].what != what:
        privacy.record_query(what, None if privacy.all_loaded else privacy.loaded,
                             restricted)
    if not restricted or privacy.override:
        return restriction
    scoped = resource_type if interaction == "search" else None
    return merge(restriction, search_filter(privacy, request, scoped, patients, hide_masked))


async def check_resource(privacy: PrivacyRequest, resource: dict[str, Any]) -> None:
    """Decide one resource for the request; 404 when its patients' Consents deny it."""
    own = privacy.own_patient
    patients = privacy.matcher.patients(resource) - ({own} if own else set())
    await privacy.load(patients)
    await privacy.actor()
    decision = decide(resource, privacy.rules, privacy.access_request(),
                      privacy.privacy.policy, privacy.matcher, privacy.related,
                      own_patient=own)
    privacy.record(f"{resource.get('resourceType')}/{resource.get('id')}", decision)
    if decision.outcome == DENY and not privacy.override:
        raise NotFound(f"Resource {resource.get('resourceType')}/{resource.get('id')} "
                       "is not known")


class PrivacyGuard:
    """Wraps the repository's access guard with consent decisions on single resources."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def check_read(self, resource: dict[str, Any] | None) -> None:
        await self.inner.check_read(resource)
        privacy = current_privacy.get()
        if privacy is not None and resource is not None:
            await check_resource(privacy, resource)

    async def check_write(self, resource_type: str, old: dict[str, Any] | None,
                          new: dict[str, Any] | None) -> None:
        if resource_type == "AuditEvent":
            raise MethodNotAllowed(
                "AuditEvents are append-only and written by the server itself: they "
                "cannot be created, updated or deleted through the API",
                headers={"Allow": "GET"})
        await self.inner.check_write(resource_type, old, new)


async def check_history(request: Request, repository: Any, resource_type: str | None,
                        rid: str | None) -> None:
    privacy = current_privacy.get()
    if privacy is None:
        return
    if resource_type is not None and rid is not None:
        versions = repository.db[HISTORY].find(
            {"type": resource_type, "id": rid, "resource": {"$ne": None}}, {"resource": 1})
        async for doc in versions:
            await check_resource(privacy, from_bson(doc["resource"]))
        return
    await privacy.load(None)
    if privacy.visible(hide_masked=True, ignore_override=True) != TRUE and not privacy.override:
        raise Forbidden("Type and system history are not available while patients' "
                        "Consents restrict what you may see; read one resource's history")


def _masked(privacy: PrivacyRequest, resource: dict[str, Any]) -> bool:
    own = privacy.own_patient
    return any(evaluate(privacy.view(p).masked, resource, privacy.matcher)
               for p in privacy.matcher.patients(resource) - ({own} if own else set())
               if p in privacy.rules)


def _mask_body(privacy: PrivacyRequest, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("resourceType") == "Bundle":
        entries = []
        for entry in body.get("entry") or []:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and _masked(privacy, resource):
                entry = {**entry, "resource": mask(resource)}
            entries.append(entry)
        return {**body, "entry": entries} if "entry" in body else body
    return mask(body) if _masked(privacy, body) else body


def disclose(request: Request, body: Any) -> Any:
    """The response body as the request may see it (masking, break-glass label)."""
    privacy = current_privacy.get()
    if privacy is None or not isinstance(body, dict) or not privacy.ready:
        return body
    if privacy.masking and not privacy.override:
        body = _mask_body(privacy, body)
    if privacy.override:
        meta = dict(body.get("meta") or {})
        labels = [label for label in meta.get("security") or [] if label != BREAK_GLASS_LABEL]
        body = {**body, "meta": {**meta, "security": [*labels, BREAK_GLASS_LABEL]}}
    return body

