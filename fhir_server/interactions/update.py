"""update, plain and conditional (R4 http.html#update, #cond-update)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from ..errors import InvalidResource
from ..ids import check_id
from ..storage import StoredResource
from ..write_rules import after_write
from .caller import Caller
from .conditional import match_or_create
from .create import create

__all__ = ["update", "conditional_update"]


async def update(caller: Caller, resource: dict[str, Any], rid: str, *,
                 if_match: int | None = None, method: str = "PUT",
                 session: AsyncClientSession | None = None) -> StoredResource:
    """A new version, or update-as-create with the client's id (``stored.created``)."""
    check_id(rid)

    async def write(s: AsyncClientSession) -> StoredResource:
        stored = await caller.resources.update(caller.policy, resource, rid,
                                               if_match=if_match, method=method, session=s)
        await after_write(caller, stored, s)
        return stored

    return await caller.resources.in_transaction(write, session)


async def conditional_update(caller: Caller, resource: dict[str, Any],
                             params: list[tuple[str, str]], *, if_match: int | None = None,
                             session: AsyncClientSession | None = None) -> StoredResource:
    """No visible match: create (with the body's id, if any); one: update it; more: 412.
    Concurrent creates on the same criteria are serialised (:mod:`.conditional`)."""
    body_id = resource.get("id")

    async def found(match: str, s: AsyncClientSession) -> StoredResource:
        if body_id is not None and body_id != match:
            raise InvalidResource(f"The id in the body ('{str(body_id)[:80]}') is not the id "
                                  f"of the matching resource ('{match}')")
        return await update(caller, resource, match, if_match=if_match, session=s)

    async def absent(s: AsyncClientSession) -> StoredResource:
        if body_id is not None:
            return await update(caller, resource, str(body_id), session=s)
        return (await create(caller, resource, session=s)).stored  # with the write rules

    return await match_or_create(caller, resource["resourceType"], params,
                                 "conditional update", found=found, absent=absent,
                                 session=session)
