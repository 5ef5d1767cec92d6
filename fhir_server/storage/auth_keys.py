"""The server's signing keys in ``auth_keys``, for servers on an external MongoDB (several
processes on several hosts share the database but no directory):
``{_id: kid, jwk, created, retired, expiresAt}``; a TTL index drops a key once retired
long enough (:mod:`fhir_server.auth.keys` decides when)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["SigningKeyRecords"]


class SigningKeyRecords:
    def __init__(self, db: AsyncDatabase) -> None:
        self._keys = db["auth_keys"]

    async def ensure_indexes(self) -> None:
        await self._keys.create_index("expiresAt", expireAfterSeconds=0, name="ttl")

    async def all(self) -> list[dict[str, Any]]:
        """Every stored key, newest first."""
        return await self._keys.find().sort([("created", DESCENDING),
                                             ("_id", DESCENDING)]).to_list()

    async def add(self, kid: str, jwk: dict[str, Any], created: float) -> None:
        await self._keys.insert_one({"_id": kid, "jwk": jwk, "created": created,
                                     "retired": None, "expiresAt": None})

    async def retire_others(self, kid: str, retired: float, expires_at: datetime) -> None:
        """Mark every key but ``kid`` not yet retired as retired, dropped at
        ``expires_at``."""
        await self._keys.update_many(
            {"_id": {"$ne": kid}, "retired": None},
            {"$set": {"retired": retired, "expiresAt": expires_at}})
