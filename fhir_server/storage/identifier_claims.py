"""Identifier claims: which resource holds an identifier that must be unique on the server.

Collection ``identifier_claims``, one document per held identifier,
``{_id: "<system>|<normalised value>", owner: "Patient/<id>", at}``. Uniqueness is the
``_id`` index every collection has, so it costs no index of its own, and only identifiers
that must be unique (the deployment's health ID) pay for it: a unique index over every
identifier of every resource would cost SecantusDB (which maintains indexes in Python) on
every write of every resource.

Claims are taken and released inside the transaction that writes the resource (a
:class:`~.write_guards.WriteGuard`), so a claim exists exactly when a committed version
holds the identifier. Two transactions claiming one identifier at once both write the same
``_id``: MongoDB lets one commit and fails the other with a write conflict, which is
retried and then finds the claim taken (409). Nothing here says who holds a claim to a
caller: the owner may be a patient the caller may not see.
"""

from __future__ import annotations

from collections.abc import Iterable

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from .. import clock

__all__ = ["IdentifierClaims", "CLAIMS", "claim_key"]

CLAIMS = "identifier_claims"


def claim_key(system: str, value: str) -> str:
    """The claim of ``value`` (already normalised) in ``system``."""
    return f"{system}|{value}"


class IdentifierClaims:
    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db

    async def holder(self, key: str, session: AsyncClientSession | None = None) -> str | None:
        """Who holds ``key`` (``Type/id``), None when nobody does."""
        found = await self._db[CLAIMS].find_one({"_id": key}, {"owner": 1}, session=session)
        return None if found is None else found["owner"]

    async def hold(self, owner: str, keys: Iterable[str], session: AsyncClientSession
                   ) -> list[str]:
        """Claim ``keys`` for ``owner``; the keys another resource already holds (nothing
        is claimed then: the caller refuses the write, aborting the transaction)."""
        wanted = sorted(set(keys))
        held = {doc["_id"]: doc["owner"] async for doc in self._db[CLAIMS].find(
            {"_id": {"$in": wanted}}, {"owner": 1}, session=session)} if wanted else {}
        taken = [k for k in wanted if held.get(k, owner) != owner]
        if taken:
            return taken
        new = [{"_id": k, "owner": owner, "at": clock.now()} for k in wanted if k not in held]
        if new:
            await self._db[CLAIMS].insert_many(new, session=session)
        return []

    async def release(self, owner: str, keys: Iterable[str],
                      session: AsyncClientSession) -> None:
        """Give up ``owner``'s claims on ``keys`` (others' claims are left alone)."""
        gone = sorted(set(keys))
        if gone:
            await self._db[CLAIMS].delete_many({"_id": {"$in": gone}, "owner": owner},
                                               session=session)
