"""The write that makes conditional creates race-free (R4 http.html#ccreate).

A conditional create searches, then creates if nothing matched; two of them with the same
criteria at the same instant would both find nothing and both create. Each one therefore
first writes the lock document of its criteria (collection ``condition_locks``, ``_id`` a
digest of the resource type and the normalised criteria) inside its transaction, and
searches only after that. MongoDB lets only one transaction write a document that another
uncommitted transaction wrote, or that was written after it started: the others fail with
a write conflict (``TransientTransactionError``) and are retried from the start, by which
time the first has committed and their search finds its resource. So of N concurrent
conditional creates with the same criteria exactly one creates; the rest answer with what
it created.

The lock holds no data: it is written (an upsert) and deleted again in the same
transaction. The delete is itself a write of the same ``_id``, so it conflicts just the
same, and nothing is left in the collection afterwards.
"""

from __future__ import annotations

import hashlib

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid

from .identifier_claims import CLAIMS

__all__ = ["ConditionLocks", "LOCKS", "condition_key"]

LOCKS = "condition_locks"


def condition_key(resource_type: str, params: list[tuple[str, str]]) -> str:
    """The lock of a condition: the type and the criteria, parameter order aside."""
    text = resource_type + "?" + "&".join(f"{k}={v}" for k, v in sorted(params))
    return hashlib.sha256(text.encode()).hexdigest()


class ConditionLocks:
    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db

    async def ensure_collections(self) -> None:
        """Create the collections written inside transactions beforehand (a collection
        created inside a transaction is a needless restriction on MongoDB)."""
        existing = set(await self._db.list_collection_names())
        for name in sorted({LOCKS, CLAIMS} - existing):
            try:
                await self._db.create_collection(name)
            except CollectionInvalid:  # created meanwhile by another process
                pass

    async def hold(self, key: str, session: AsyncClientSession) -> None:
        """Write lock ``key`` in ``session``'s transaction: of concurrent holders one
        commits, the others fail with a write conflict (retried as a whole)."""
        locks = self._db[LOCKS]
        await locks.update_one({"_id": key}, {"$inc": {"writes": 1}}, upsert=True,
                               session=session)
        await locks.delete_one({"_id": key}, session=session)
