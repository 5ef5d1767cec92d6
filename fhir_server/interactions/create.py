"""create, plain and conditional (R4 http.html#create, #ccreate); conditional creates
with the same criteria never both create (:func:`.conditional.match_or_create`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from ..storage import StoredResource
from ..write_rules import after_write
from .caller import Caller
from .conditional import match_or_create

__all__ = ["create", "Created"]


@dataclass(frozen=True)
class Created:
    """What a create did: ``stored``, and whether it is new (201) or the existing match of
    ``If-None-Exist`` (200)."""

    stored: StoredResource
    new: bool


async def create(caller: Caller, resource: dict[str, Any], *,
                 if_none_exist: list[tuple[str, str]] | None = None, rid: str | None = None,
                 session: AsyncClientSession | None = None) -> Created:
    """Store a new resource (server-assigned id unless ``rid``); with ``if_none_exist``,
    the one visible match instead when there is one."""
    resources = caller.resources

    async def new(s: AsyncClientSession) -> Created:
        stored = await resources.create(caller.policy, resource, rid=rid, session=s)
        await after_write(caller, stored, s)  # in the create's transaction
        return Created(stored, True)

    if if_none_exist is None:
        return await resources.in_transaction(new, session)
    resource_type = resource["resourceType"]

    async def existing(found: str, s: AsyncClientSession) -> Created:
        # as the search found it: committed, perhaps after this transaction's snapshot
        return Created(await resources.read(caller.policy, resource_type, found), False)

    return await match_or_create(caller, resource_type, if_none_exist,
                                 "If-None-Exist condition", found=existing, absent=new,
                                 session=session)
