"""The HL7 v2 feed's store (:class:`importers.hl7v2.store.FeedStore`) over MongoDB.

* ``hl7_messages``: one document per stored message, ``_id`` = the message key;
* ``hl7_dead_letters``: the messages that failed.

Resources are written as the server itself (:data:`~fhir_server.access.SYSTEM`): a feed is
a trusted source that must see every stored patient to avoid creating one twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from importers.hl7v2.patients import PatientDirectory, PatientResolution
from importers.hl7v2.store import DeadLetter

from ..access import SYSTEM
from ..errors import FhirError, Gone, NotFound
from .resources import Resources

__all__ = ["Hl7Feed", "MESSAGES", "DEAD_LETTERS"]

MESSAGES = "hl7_messages"
DEAD_LETTERS = "hl7_dead_letters"
T = TypeVar("T")


class Hl7Feed:
    retryable: tuple[type[Exception], ...] = (FhirError,)

    def __init__(self, db: AsyncDatabase, resources: Resources) -> None:
        self._db = db
        self.resources = resources
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
        return await self.resources.in_transaction(work)

    async def current(self, resource_type: str, rid: str, session: Any
                      ) -> tuple[int, dict[str, Any]] | None:
        try:
            stored = await self.resources.read(SYSTEM, resource_type, rid, session)
        except (NotFound, Gone):
            return None
        assert stored.resource is not None
        return stored.vid, stored.resource

    async def write(self, resource: dict[str, Any], session: Any) -> int:
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
