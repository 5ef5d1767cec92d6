"""Refresh token families (OAuth 2.0 Security BCP, RFC 9700 section 4.14.2), one document
per authorization grant in ``auth_refresh``:

``{_id: family id, client_id, grant, code, current, tokens, access, expiresAt}``

* ``current``: the digest of the one refresh token that may be used (None once the family
  gave out its last access token);
* ``tokens``: the digests of every refresh token the family handed out, newest last (the
  last :data:`KEPT_TOKENS`), so a rotated-out token is recognised when it comes back;
* ``access``: ``{jti, exp}`` of the access tokens the family issued (the last
  :data:`KEPT_ACCESS`), revoked with it;
* ``code``: the digest of the authorization code the grant came from;
* ``expiresAt``: the end of the grant's refresh lifetime, unchanged by rotation (TTL).

Every change is one atomic single-document operation (a compare-and-set on ``current``,
a delete that returns what it deleted), so several server processes agree without
transactions or process memory. Keys are digests: this layer never sees a token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from .. import clock
from .auth_state import live

__all__ = ["RefreshFamilies", "KEPT_TOKENS", "KEPT_ACCESS"]

KEPT_TOKENS = 1000
KEPT_ACCESS = 100


class RefreshFamilies:
    def __init__(self, db: AsyncDatabase) -> None:
        self._families = db["auth_refresh"]

    async def ensure_indexes(self) -> None:
        await self._families.create_index("expiresAt", expireAfterSeconds=0, name="ttl")
        await self._families.create_index("tokens", name="tokens")
        await self._families.create_index("code", name="code")
        await self._families.create_index("client_id", name="client_id")

    async def start(self, family: str, *, client_id: str, grant: dict[str, Any],
                    code: str | None, token: str, access: dict[str, Any],
                    expires_at: datetime) -> None:
        """A new family whose first (current) refresh token has digest ``token``."""
        await self._families.insert_one({
            "_id": family, "client_id": client_id, "grant": grant, "code": code,
            "current": token, "tokens": [token], "access": [access],
            "expiresAt": expires_at})

    async def holding(self, token: str) -> dict[str, Any] | None:
        """The live family that handed out the refresh token with digest ``token``
        (current or rotated out)."""
        return live(await self._families.find_one({"tokens": token}))

    async def rotate(self, family: str, used: str, *, new: str | None,
                     grant: dict[str, Any], access: dict[str, Any]) -> bool:
        """Replace the current token ``used`` by ``new`` (None: the family ends), with the
        grant and access token the use gave out. False when ``used`` is not the current
        token any more (another use came first) or the family is gone or expired."""
        changes: dict[str, Any] = {"$set": {"current": new, "grant": grant},
                                   "$push": {"access": {"$each": [access],
                                                        "$slice": -KEPT_ACCESS}}}
        if new is not None:
            changes["$push"]["tokens"] = {"$each": [new], "$slice": -KEPT_TOKENS}
        result = await self._families.update_one(
            {"_id": family, "current": used, "expiresAt": {"$gt": clock.now()}}, changes)
        return result.modified_count == 1

    async def remove(self, family: str) -> dict[str, Any] | None:
        """Delete a family; what it was (its access tokens are the caller's to revoke),
        or None when it was already gone."""
        return await self._families.find_one_and_delete({"_id": family})

    async def remove_of_code(self, code: str) -> list[dict[str, Any]]:
        """Delete the families that came from an authorization code; what they were."""
        return await self._remove_each({"code": code})

    async def remove_of_client(self, client_id: str) -> list[dict[str, Any]]:
        """Delete every family of a client; what they were."""
        return await self._remove_each({"client_id": client_id})

    async def _remove_each(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        removed = []
        for found in await self._families.find(query, {"_id": 1}).to_list():
            doc = await self.remove(found["_id"])
            if doc is not None:
                removed.append(doc)
        return removed
