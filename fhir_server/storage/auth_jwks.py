"""JSON Web Key Sets fetched by URL (clients' JWKS URLs, external OpenID Connect issuers),
cached in ``auth_jwks_cache`` for every server process: ``{_id: url, jwks, fetchedAt}``,
dropped by a TTL index ``keep_seconds`` after the fetch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["JwksCache"]


class JwksCache:
    def __init__(self, db: AsyncDatabase) -> None:
        self._cache = db["auth_jwks_cache"]

    async def ensure_indexes(self, keep_seconds: int) -> None:
        await self._cache.create_index("fetchedAt", expireAfterSeconds=keep_seconds,
                                       name="ttl")

    async def cached(self, url: str) -> dict[str, Any] | None:
        """``{jwks, fetchedAt}`` of the last fetch of ``url``, if still kept."""
        return await self._cache.find_one({"_id": url})

    async def store(self, url: str, jwks: dict[str, Any], fetched_at: datetime) -> None:
        await self._cache.replace_one({"_id": url},
                                      {"_id": url, "jwks": jwks, "fetchedAt": fetched_at},
                                      upsert=True)
