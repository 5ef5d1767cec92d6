"""create, plain and conditional (R4 http.html#create, #ccreate)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from ..storage import StoredResource
from ..write_rules import after_write
from .caller import Caller
from .conditional import match_one

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
    if if_none_exist is not None:
        found = await match_one(caller, resource["resourceType"], if_none_exist,
                                "If-None-Exist condition")
        if found is not None:
            existing = await caller.resources.read(caller.policy, resource["resourceType"],
                                                   found, session)
            return Created(existing, False)

    async def write(s: AsyncClientSession) -> StoredResource:
        stored = await caller.resources.create(caller.policy, resource, rid=rid, session=s)
        await after_write(caller, stored, s)
        return stored

    return Created(await caller.resources.in_transaction(write, session), True)
