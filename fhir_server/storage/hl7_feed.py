"""The HL7 v2 feed's store (:class:`importers.hl7v2.store.FeedStore`) over MongoDB.

* ``hl7_messages``: one document per stored message, ``_id`` = the message key;
* ``hl7_dead_letters``: the messages that failed.

Resources are written as the server itself (:data:`~fhir_server.access.SYSTEM`): a feed is
a trusted source that must see every stored patient to avoid creating one twice.

A message's resources are written in bulk: inside its transaction each ``write`` reads
the resource's latest version (one indexed query on ``history``) and stages the new
version; when the message's work is done the staged versions go to MongoDB with one bulk
write per collection and one insert into ``history`` (:meth:`Resources.write_versions`),
in the same transaction as the message record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from importers.hl7v2.patients import PatientDirectory, PatientResolution
from importers.hl7v2.store import DeadLetter

from .. import clock
from ..access import SYSTEM
from ..errors import FhirError
from .resources import Put, Resources, StoredResource, Version

__all__ = ["Hl7Feed", "MESSAGES", "DEAD_LETTERS"]

MESSAGES = "hl7_messages"
DEAD_LETTERS = "hl7_dead_letters"
T = TypeVar("T")


class _Staged:
    """The versions one message's transaction has written so far, not yet stored."""

    def __init__(self, resources: Resources, session: Any) -> None:
        self.resources = resources
        self.session = session
        self.moment = clock.now()
        self.latest: dict[tuple[str, str], StoredResource | int] = {}
        self.versions: dict[tuple[str, str], Version] = {}

    async def latest_of(self, resource_type: str, rid: str) -> StoredResource | int:
        key = (resource_type, rid)
        if key not in self.latest:
            self.latest[key] = await self.resources.latest(resource_type, rid, self.session)
        return self.latest[key]

    async def write(self, resource: dict[str, Any]) -> int:
        key = (resource["resourceType"], resource["id"])
        if key in self.versions:  # written twice in one message: the first goes first
            await self.flush()
        latest = await self.latest_of(*key)
        planned = await self.resources.plan_update(SYSTEM, Put(resource, key[1]), latest,
                                                   self.moment, session=self.session)
        if isinstance(planned, Version):
            self.versions[key] = planned
            planned = planned.result()
        self.latest[key] = planned
        return planned.vid

    async def flush(self) -> None:
        await self.resources.write_versions(list(self.versions.values()), self.session)
        self.versions.clear()


class Hl7Feed:
    retryable: tuple[type[Exception], ...] = (FhirError,)

    def __init__(self, db: AsyncDatabase, resources: Resources) -> None:
        self._db = db
        self.resources = resources
        self._staged: dict[int, _Staged] = {}
        self.patients: PatientDirectory | None = None  # the server's, set when it starts

    async def resolve_patient(self, patient: dict[str, Any], *,
                              message_key: str) -> PatientResolution:
        if self.patients is None:
            return PatientResolution()
        return await self.patients.resolve_patient(patient, message_key=message_key)

    async def ensure_indexes(self) -> None:
        await self._db[MESSAGES].create_index([("receivedAt", DESCENDING)], name="received")
        await self._db[DEAD_LETTERS].create_index(
            [("status", ASCENDING), ("receivedAt", ASCENDING)], name="status_received")

    async def in_transaction(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction; the resources it wrote are stored in bulk
        when it is done, in the same transaction."""

        async def run(session: Any) -> T:
            staged = self._staged[id(session)] = _Staged(self.resources, session)
            try:
                result = await work(session)
                await staged.flush()
                return result
            finally:
                self._staged.pop(id(session), None)

        return await self.resources.in_transaction(run)

    async def prefetch(self, keys: list[tuple[str, str]], session: Any) -> None:
        """Read the stored versions of the (type, id) a message is about to write, with
        one query per collection, so that its writes need no read of their own."""
        staged = self._staged.get(id(session))
        if staged is None:
            return
        wanted = [k for k in dict.fromkeys(keys) if k not in staged.latest]
        if wanted:
            staged.latest.update(await self.resources.current_many(wanted, session))

    async def current(self, resource_type: str, rid: str, session: Any
                      ) -> tuple[int, dict[str, Any]] | None:
        """(version, resource) as this transaction left it; None when absent or deleted."""
        staged = self._staged.get(id(session))
        latest = (await staged.latest_of(resource_type, rid) if staged is not None
                  else await self.resources.latest(resource_type, rid, session))
        if not isinstance(latest, StoredResource) or latest.resource is None:
            return None
        return latest.vid, latest.resource

    async def write(self, resource: dict[str, Any], session: Any) -> int:
        """Store a resource with its own id: staged inside :meth:`in_transaction`, else
        written at once in its own transaction; its new version."""
        staged = self._staged.get(id(session))
        if staged is not None:
            return await staged.write(resource)
        stored = await self.resources.update(SYSTEM, resource, resource["id"], session=session)
        return stored.vid

    async def message(self, key: str, session: Any = None) -> dict[str, Any] | None:
        return await self._db[MESSAGES].find_one({"_id": key}, session=session)

    async def record_message(self, record: dict[str, Any], session: Any) -> None:
        await self._db[MESSAGES].insert_one(record, session=session)

    async def record_dead_letter(self, letter: DeadLetter, moment: datetime) -> None:
        """Store (or update, counting attempts) the dead letter of a failed message."""
        await self._db[DEAD_LETTERS].update_one(
            {"_id": letter.key},
            {"$set": {"text": letter.text, "ackCode": letter.ack_code,
                      "error": {"code": letter.error_code, "text": letter.error,
                                "location": letter.location},
                      "sender": letter.sender, "controlId": letter.control_id,
                      "event": letter.event, "source": letter.source,
                      "truncated": letter.truncated, "status": letter.status,
                      "lastAttemptAt": moment},
             "$setOnInsert": {"receivedAt": moment},
             "$inc": {"attempts": 1}},
            upsert=True,
        )

    async def resolve_dead_letter(self, key: str, moment: datetime,
                                  session: Any = None) -> None:
        await self._db[DEAD_LETTERS].update_one(
            {"_id": key, "status": {"$in": ["open", "held"]}},
            {"$set": {"status": "resolved", "resolvedAt": moment}}, session=session)

    async def dead_letters(self, status: str | None = "open", limit: int = 0,
                           keys: list[str] | None = None) -> list[dict[str, Any]]:
        """Dead letters, oldest first; ``status`` None lists all."""
        query: dict[str, Any] = {}
        if status:
            query["status"] = status
        if keys:
            query["_id"] = {"$in": [str(k) for k in keys]}
        cursor = self._db[DEAD_LETTERS].find(query).sort(
            [("receivedAt", ASCENDING), ("_id", ASCENDING)])
        if limit:
            cursor = cursor.limit(limit)
        return await cursor.to_list()
