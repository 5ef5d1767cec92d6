"""The search behind a conditional interaction (R4 http.html#cond-update and friends), and
the guarantee that conditional creates do not race.

Only resources the caller may see can match: a conditional create, update, patch or
delete acts as if the others did not exist, and never modifies them.

A conditional create (``If-None-Exist``, or ``POST`` with search parameters in the URL) and
the create branch of a conditional update search and then create. :func:`match_or_create`
runs both in one transaction that first writes the lock of its criteria
(:mod:`fhir_server.storage.condition_locks`): of concurrent requests with the same
criteria exactly one creates; the others conflict, are retried, and find what it created.
Criteria that differ in writing (``identifier=a|b`` and ``identifier=b``) take different
locks: the guarantee is per criteria, as the spec's "the same search" is. The health ID's
uniqueness does not depend on the criteria (:mod:`fhir_server.storage.health_ids`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession

from ..errors import Conflict, InvalidRequest, PreconditionFailed
from ..storage.condition_locks import condition_key
from .caller import Caller

__all__ = ["match_one", "match_or_create", "hold_condition", "still_absent"]

T = TypeVar("T")


async def match_one(caller: Caller, resource_type: str, params: list[tuple[str, str]],
                    what: str) -> str | None:
    """The id of the one visible match, None for none, 412 for several."""
    if not params:
        raise InvalidRequest(f"A {what} needs search parameters")
    found = await caller.services.search.match_ids(caller.policy, resource_type, params, 2)
    if len(found) > 1:
        raise PreconditionFailed(f"The {what} matches more than one {resource_type}; "
                                 "be more selective")
    return found[0] if found else None


async def hold_condition(caller: Caller, resource_type: str, params: list[tuple[str, str]],
                         session: AsyncClientSession) -> None:
    """Write the lock of a condition in ``session``'s transaction; search only after."""
    await caller.services.storage.condition_locks.hold(condition_key(resource_type, params),
                                                       session)


async def still_absent(caller: Caller, resource_type: str, params: list[tuple[str, str]],
                       session: AsyncClientSession) -> None:
    """For a create planned before its transaction (a Bundle's ``ifNoneExist``): take the
    lock, then 409 if a match has appeared since (another request created it)."""
    await hold_condition(caller, resource_type, params, session)
    if await match_one(caller, resource_type, params, "ifNoneExist") is not None:
        raise Conflict(f"A {resource_type} matching ifNoneExist was created by another "
                       "request while this one ran; send the Bundle again (it will find "
                       "that one)")


async def match_or_create(caller: Caller, resource_type: str, params: list[tuple[str, str]],
                          what: str, *,
                          found: Callable[[str, AsyncClientSession], Awaitable[T]],
                          absent: Callable[[AsyncClientSession], Awaitable[T]],
                          session: AsyncClientSession | None = None) -> T:
    """``found(id, session)`` for the one visible match, else ``absent(session)``, with
    concurrent calls on the same criteria serialised (412 for several matches)."""
    if not params:
        raise InvalidRequest(f"A {what} needs search parameters")

    async def work(s: AsyncClientSession) -> T:
        await hold_condition(caller, resource_type, params, s)
        match = await match_one(caller, resource_type, params, what)
        return await (found(match, s) if match is not None else absent(s))

    return await caller.resources.in_transaction(work, session)
