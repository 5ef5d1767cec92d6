"""Carrying out one write entry of a Bundle inside a MongoDB session (R4 http.html#trules).

Preparation (references rewritten, id fixed, resource validated, Binary content moved to
GridFS) happens before the database transaction starts; :func:`execute` then performs the
create, update, patch or delete with the entry's ``ifMatch``/``ifNoneMatch`` conditions,
through the same interactions as the REST requests.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from .. import interactions
from ..errors import Gone, InvalidRequest, Issue, NotFound, PreconditionFailed, operation_outcome
from ..interactions import Caller
from ..json_io import parse_json
from ..patch import apply_fhirpath_patch, apply_json_patch
from ..storage import StoredResource
from .entries import Entry, parse_etag
from .plan import Plan
from .references import rewrite_references

__all__ = ["EntryResult", "prepare", "execute"]


@dataclass
class EntryResult:
    """What an entry did: the HTTP status and, for writes, the version it left."""

    status: int
    stored: StoredResource | None = None
    outcome: dict[str, Any] | None = None
    resource: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


async def prepare(caller: Caller, entry: Entry, plan: Plan, uploads: list[str]) -> None:
    """Rewrite the entry's links, fix its id, validate it and store Binary content.

    GridFS files written here are appended to ``uploads`` so a failure can remove them.
    """
    if entry.resource is None or entry.index in plan.aliases or entry.existing is not None:
        return
    resource = rewrite_references(entry.resource, entry.full_url, plan.links, plan.resolved)
    if entry.method == "PATCH":
        entry.resource = resource
        return
    resource = {**resource, "id": entry.target_id}
    interactions.validate(caller, resource)
    if resource["resourceType"] == "Binary":
        resource, file_id = await caller.services.storage.binary.externalize(
            resource, caller.services.settings.max_binary_bytes)
        if file_id is not None:
            uploads.append(file_id)
    entry.resource = resource


async def execute(caller: Caller, entry: Entry, session: AsyncClientSession | None
                  ) -> EntryResult:
    """Perform a prepared write entry, joining ``session``'s transaction."""
    assert entry.resource_type is not None
    if entry.method == "DELETE":
        return await _delete(caller, entry, session)
    if entry.existing is not None:
        return EntryResult(200, entry.existing)
    assert entry.target_id is not None and entry.resource is not None
    if entry.method == "POST":
        created = await interactions.create(caller, entry.resource, rid=entry.target_id,
                                            session=session)
        return EntryResult(201, created.stored)
    if entry.method == "PATCH":
        return EntryResult(200, await _patch(caller, entry, session))
    await _check_if_none_match(caller, entry, session)
    stored = await interactions.update(caller, entry.resource, entry.target_id,
                                       if_match=entry.if_match, session=session)
    return EntryResult(201 if stored.created else 200, stored)


async def _delete(caller: Caller, entry: Entry, session: AsyncClientSession | None
                  ) -> EntryResult:
    assert entry.resource_type is not None
    if entry.target_id is None:
        return EntryResult(204, outcome=_information("No resource matched; nothing was deleted"))
    tombstone = await interactions.delete(caller, entry.resource_type, entry.target_id,
                                          if_match=entry.if_match, session=session)
    where = f"{entry.resource_type}/{entry.target_id}"
    if tombstone is None:
        return EntryResult(204, outcome=_information(f"{where} did not exist; nothing was "
                                                     "deleted"))
    return EntryResult(204, tombstone, _information(f"Deleted {where} (version "
                                                    f"{tombstone.vid})"))


def _information(message: str) -> dict[str, Any]:
    return operation_outcome([Issue("information", "informational", message)])


async def _check_if_none_match(caller: Caller, entry: Entry,
                               session: AsyncClientSession | None) -> None:
    """``ifNoneMatch`` on a PUT: ``*`` means create only; ``W/"n"`` means not over version n."""
    if entry.if_none_match is None:
        return
    assert entry.resource_type and entry.target_id
    try:
        current = await caller.resources.read(caller.policy, entry.resource_type,
                                              entry.target_id, session)
    except (NotFound, Gone):
        return
    tags = [t.strip() for t in entry.if_none_match.split(",")]
    if "*" in tags or current.vid in {parse_etag(t, "ifNoneMatch") for t in tags if t != "*"}:
        raise PreconditionFailed(f"ifNoneMatch '{entry.if_none_match}': "
                                 f"{entry.resource_type}/{entry.target_id} exists at version "
                                 f"{current.vid}")


def _json_patch_operations(binary: dict[str, Any]) -> Any:
    if binary.get("contentType", "").split(";")[0].strip() != "application/json-patch+json":
        raise InvalidRequest("A PATCH entry's Binary must have contentType "
                             "application/json-patch+json")
    try:
        raw = base64.b64decode("".join(str(binary.get("data", "")).split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("The PATCH entry's Binary.data is not valid base64") from None
    return parse_json(raw)


def _patcher(entry: Entry) -> interactions.Patcher:
    """A PATCH entry's document: a Binary holding JSON Patch, or FHIRPath Patch
    Parameters."""
    assert entry.resource is not None
    if entry.resource["resourceType"] == "Binary":
        operations = _json_patch_operations(entry.resource)
        return lambda current: apply_json_patch(current, operations)
    document = entry.resource
    return lambda current: apply_fhirpath_patch(current, document)


async def _patch(caller: Caller, entry: Entry, session: AsyncClientSession | None
                 ) -> StoredResource:
    assert entry.resource_type and entry.target_id and entry.resource is not None
    return await interactions.patch(caller, entry.resource_type, entry.target_id,
                                    _patcher(entry), if_match=entry.if_match, session=session)
