"""What the authorization server remembers about tokens, each until it no longer matters:

* ``auth_revoked``: ``{_id: jti, expiresAt}``, access tokens revoked before they expire
  (RFC 7009), kept until they would have expired;
* ``auth_jti``: ``{_id: "<client_id> <jti>", expiresAt}``, client assertions already used
  (RFC 7523 section 3, ``jti`` replay), kept until the assertion expires;
* ``auth_audit``: one record per token an operator printed (``fhir-server token``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

__all__ = ["TokenRecords"]


class TokenRecords:
    def __init__(self, db: AsyncDatabase) -> None:
        self._revoked = db["auth_revoked"]
        self._assertions = db["auth_jti"]
        self._operator_tokens = db["auth_audit"]

    async def ensure_indexes(self) -> None:
        await self._revoked.create_index("expiresAt", expireAfterSeconds=0, name="ttl")
        await self._assertions.create_index("expiresAt", expireAfterSeconds=0, name="ttl")

    async def revoke(self, jti: str, expires_at: datetime) -> None:
        await self._revoked.update_one({"_id": jti}, {"$set": {"expiresAt": expires_at}},
                                       upsert=True)

    async def revoked(self, jti: str) -> bool:
        return await self._revoked.find_one({"_id": jti}, {"_id": 1}) is not None

    async def first_use_of_assertion(self, key: str, expires_at: datetime) -> bool:
        """Remember an assertion's ``jti``; False when it was seen before (a replay)."""
        try:
            await self._assertions.insert_one({"_id": key, "expiresAt": expires_at})
        except DuplicateKeyError:
            return False
        return True

    async def record_operator_token(self, record: dict[str, Any]) -> None:
        await self._operator_tokens.insert_one(record)
