"""Locks that make conditional creates race-free (R4 http.html#ccreate).

A conditional create searches, then creates if nothing matched; two of them with the same
criteria at the same instant would both find nothing and both create. Each one therefore
first writes the lock document of its criteria (``condition_locks``, ``_id`` a digest of
the resource type and the normalised criteria) inside its transaction, and searches only
after that. MongoDB (and SecantusDB) let only one transaction write a document that
another uncommitted transaction wrote, or that was written after it started: the others
fail with a write conflict and are retried from the start, by which time the first has
committed and their search finds its resource. So of N concurrent conditional creates with
the same criteria exactly one creates; the rest answer with what it created.

The lock is only a point of conflict; it holds no data, and is written with an upsert (two
transactions creating it at once conflict the same way). Lock documents expire a day after
their last use (TTL index).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from .. import clock

__all__ = ["ConditionLocks", "LOCKS", "condition_key"]

LOCKS = "condition_locks"
_KEEP = timedelta(days=1)


def condition_key(resource_type: str, params: list[tuple[str, str]]) -> str:
    """The lock of a condition: the type and the criteria, parameter order aside."""
    text = resource_type + "?" + "&".join(f"{k}={v}" for k, v in sorted(params))
    return hashlib.sha256(text.encode()).hexdigest()


class ConditionLocks:
    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await self._db[LOCKS].create_index("expiresAt", expireAfterSeconds=0, name="expiry")

    async def hold(self, key: str, session: AsyncClientSession) -> None:
        """Write lock ``key`` in ``session``'s transaction: of concurrent holders one
        commits, the others fail with a write conflict (retried as a whole)."""
        await self._db[LOCKS].update_one(
            {"_id": key}, {"$inc": {"uses": 1}, "$set": {"expiresAt": clock.now() + _KEEP}},
            upsert=True, session=session)
