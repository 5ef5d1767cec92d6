"""delete, plain and conditional (R4 http.html#delete, #3.1.0.7.1)."""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from ..ids import check_id
from ..storage import StoredResource
from ..write_rules import after_write
from .caller import Caller
from .conditional import match_one

__all__ = ["delete", "conditional_delete"]


async def delete(caller: Caller, resource_type: str, rid: str, *,
                 if_match: int | None = None,
                 session: AsyncClientSession | None = None) -> StoredResource | None:
    """The tombstone, or None when there was nothing (visible) to delete."""
    check_id(rid)

    async def write(s: AsyncClientSession) -> StoredResource | None:
        tombstone = await caller.resources.delete(caller.policy, resource_type, rid,
                                                  if_match=if_match, session=s)
        if tombstone is not None:
            await after_write(caller, tombstone, s)
        return tombstone

    return await caller.resources.in_transaction(write, session)


async def conditional_delete(caller: Caller, resource_type: str,
                             params: list[tuple[str, str]], *,
                             session: AsyncClientSession | None = None
                             ) -> tuple[str | None, StoredResource | None]:
    """Delete the one visible match: (its id, the tombstone); (None, None) for none;
    412 for several."""
    found = await match_one(caller, resource_type, params, "conditional delete")
    if found is None:
        return None, None
    return found, await delete(caller, resource_type, found, session=session)
