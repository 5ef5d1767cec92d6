"""patch: JSON Patch and FHIRPath Patch, plain and conditional (R4 http.html#patch).

Reading the current version, applying the patch, validating and writing the new version
happen in one MongoDB transaction: a concurrent write makes the transaction conflict and
start again on the newer version, so no change is lost. With ``If-Match`` a newer version
is a 412 instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from ..errors import InvalidRequest, NotFound, PreconditionFailed
from ..ids import check_id
from ..storage import StoredResource
from ..write_rules import after_write
from .caller import Caller
from .conditional import match_one
from .validate import check_resource, validate

__all__ = ["patch", "conditional_patch", "Patcher"]

Patcher = Callable[[dict[str, Any]], dict[str, Any]]


async def patch(caller: Caller, resource_type: str, rid: str, apply: Patcher, *,
                if_match: int | None = None,
                session: AsyncClientSession | None = None) -> StoredResource:
    check_id(rid)
    resources = caller.resources

    async def work(s: AsyncClientSession) -> StoredResource:
        current = await resources.current_for_change(caller.policy, resource_type, rid, s)
        if if_match is not None and if_match != current.vid:
            raise PreconditionFailed(
                f"Version conflict: If-Match W/\"{if_match}\" but the current version is "
                f"W/\"{current.vid}\"")
        assert current.resource is not None
        patched = apply(current.resource)
        if not isinstance(patched, dict):
            raise InvalidRequest("The patch does not leave a resource (a JSON object)")
        check_resource(patched, resource_type, rid, require_id=True)
        validate(caller, patched)
        stored = await resources.update(caller.policy, patched, rid, if_match=current.vid,
                                        method="PATCH", session=s)
        await after_write(caller, stored, s)
        return stored

    return await resources.in_transaction(work, session)


async def conditional_patch(caller: Caller, resource_type: str,
                            params: list[tuple[str, str]], apply: Patcher, *,
                            if_match: int | None = None,
                            session: AsyncClientSession | None = None) -> StoredResource:
    """Patch the one visible match (404 for none, 412 for several)."""
    found = await match_one(caller, resource_type, params, "conditional patch")
    if found is None:
        raise NotFound(f"No {resource_type} matches the conditional patch")
    return await patch(caller, resource_type, found, apply, if_match=if_match,
                       session=session)
