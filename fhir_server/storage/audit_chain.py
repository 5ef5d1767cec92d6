"""The audit trail: AuditEvents appended to a hash chain, and its verification.

Each AuditEvent is stored like any current resource (collection ``AuditEvent``, so it can
be read and searched) with a ``chain`` entry: ``seq`` (1, 2, 3, ...), ``prev`` (the hash
of event ``seq - 1``) and ``hash`` = SHA-256 over the canonical JSON of
``{seq, prev, resource}``. ``audit_chain`` holds the head, the newest ``{seq, hash}``:
an append reads it, inserts the next events and moves it, in one transaction, so
appenders in several server processes conflict on the head and follow each other, a
crash leaves whole events or none (no gaps), and an append costs the same however long
the trail is (reading the newest event by a sort instead grew with the trail: SecantusDB
answered it by a scan, a second per append at 60,000 events). A unique index on
``chain.seq`` backs the order; should the head ever be behind the events (a trail
written before the head was kept in the same transaction), an append that collides
there moves the head to the newest event and tries again.

:func:`verify` walks the chain in ``seq`` order and reports every event whose content no
longer matches its hash (edited), every missing number (deleted), every event whose
``prev`` is not its predecessor's hash (reordered or rewritten), events outside the chain,
and a head that the events no longer reach.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from .. import clock
from ..json_io import from_bson, to_bson
from .documents import write_options

__all__ = ["AuditTrail", "verify", "ensure_indexes", "digest", "Verification", "EVENTS",
           "HEAD", "GENESIS"]

EVENTS = "AuditEvent"
HEAD = "audit_chain"
GENESIS = "0" * 64
_ATTEMPTS = 5
_DUPLICATE = 11000


def _collided(error: BulkWriteError | DuplicateKeyError) -> bool:
    """Whether an insert met an existing sequence number (a head behind the events)."""
    if isinstance(error, DuplicateKeyError):
        return True
    return any(e.get("code") == _DUPLICATE for e in error.details.get("writeErrors", []))


def digest(seq: int, prev: str, resource: dict[str, Any]) -> str:
    canonical = orjson.dumps({"prev": prev, "resource": resource, "seq": seq},
                             option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(canonical).hexdigest()


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[EVENTS].create_index(
        "chain.seq", unique=True, name="audit_chain_seq",
        partialFilterExpression={"chain.seq": {"$exists": True}})


def _stored(resource: dict[str, Any], moment: datetime) -> dict[str, Any]:
    meta = {"versionId": "1", "lastUpdated": clock.to_instant(moment)}
    body = {k: v for k, v in resource.items() if k not in ("resourceType", "id", "meta")}
    return {"resourceType": "AuditEvent", "id": resource.get("id") or str(uuid.uuid4()),
            "meta": meta, **body}


class AuditTrail:
    """The AuditEvent chain of one database."""

    def __init__(self, db: AsyncDatabase, index: Any = None) -> None:
        self._db = db
        self.index = index

    async def ensure_indexes(self) -> None:
        await ensure_indexes(self._db)

    async def append_all(self, resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Store AuditEvents as the next links of the chain (one transaction with the
        head's move); the stored resources."""
        moment = clock.now()
        stored = [from_bson(to_bson(_stored(r, moment))) for r in resources]

        async def append(session: AsyncClientSession) -> None:
            head = await self._db[HEAD].find_one({"_id": "head"}, session=session)
            seq = head["seq"] if head else 0
            prev = head["hash"] if head else GENESIS
            documents = []
            for resource in stored:
                seq += 1
                link = {"seq": seq, "prev": prev, "hash": digest(seq, prev, resource)}
                prev = link["hash"]
                fields = self.index(resource) if self.index is not None else {}
                documents.append({"_id": resource["id"], "vid": 1, "lastUpdated": moment,
                                  "resource": to_bson(resource), "search": fields,
                                  "chain": link})
            await self._db[EVENTS].insert_many(documents, session=session)
            await self._db[HEAD].update_one(
                {"_id": "head"}, {"$set": {"seq": seq, "hash": prev}}, upsert=True,
                session=session)

        for _ in range(_ATTEMPTS):
            try:
                async with self._db.client.start_session() as session:
                    await session.with_transaction(append, **write_options())
                return stored
            except (BulkWriteError, DuplicateKeyError) as error:
                if not _collided(error):
                    raise
                await self._catch_up_head()
        raise RuntimeError("could not append to the audit chain")  # pragma: no cover

    async def _catch_up_head(self) -> None:
        """Move a head left behind the events to the newest event."""
        newest = await self._db[EVENTS].find_one(
            {"chain.seq": {"$exists": True}}, {"chain": 1}, sort=[("chain.seq", DESCENDING)])
        if newest is None:
            return
        link = {"seq": newest["chain"]["seq"], "hash": newest["chain"]["hash"]}
        moved = await self._db[HEAD].update_one(
            {"_id": "head", "seq": {"$lt": link["seq"]}}, {"$set": link})
        if moved.matched_count == 0:
            with contextlib.suppress(DuplicateKeyError):  # there is a head: it has moved
                await self._db[HEAD].insert_one({"_id": "head", **link})

    async def verify(self) -> Verification:
        return await verify(self._db)


@dataclass
class Verification:
    events: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


async def verify(db: AsyncDatabase) -> Verification:
    """Check the whole chain; an intact chain has no problems."""
    result = Verification()
    expected_seq, expected_prev = 1, GENESIS
    cursor = db[EVENTS].find({"chain.seq": {"$exists": True}}).sort("chain.seq", ASCENDING)
    last_hash = GENESIS
    async for doc in cursor:
        result.events += 1
        link, name = doc["chain"], f"AuditEvent/{doc['_id']}"
        seq = link.get("seq")
        if seq != expected_seq:
            result.problems.append(
                f"events {expected_seq}..{seq - 1} are missing (deleted) before {name}"
                if isinstance(seq, int) and seq > expected_seq
                else f"{name} has sequence number {seq!r}, expected {expected_seq}")
        if link.get("prev") != expected_prev:
            result.problems.append(f"{name} (seq {seq}) does not follow the event before it: "
                                   "events were reordered, removed or rewritten")
        if digest(seq, link.get("prev"), from_bson(doc.get("resource"))) != link.get("hash"):
            result.problems.append(f"{name} (seq {seq}) was modified after it was written")
        expected_seq = (seq if isinstance(seq, int) else expected_seq) + 1
        expected_prev = last_hash = link.get("hash")
    outside = await db[EVENTS].count_documents({"chain.seq": {"$exists": False}})
    if outside:
        result.problems.append(f"{outside} AuditEvent(s) are not in the chain (written "
                               "around the audit trail)")
    head = await db[HEAD].find_one({"_id": "head"})
    if head is not None and (head["seq"] > expected_seq - 1 or (
            head["seq"] == expected_seq - 1 and head["hash"] != last_hash)):
        result.problems.append(f"the chain ends at seq {expected_seq - 1} but event "
                               f"{head['seq']} was written: the last events were removed "
                               "or replaced")
    return result
