"""What the HL7 v2 feed keeps in MongoDB besides FHIR resources.

* ``hl7_messages``: one document per stored message, ``_id`` = the message key (a hash of the
  sender MSH-3/MSH-4 and MSH-10), with the ACK that was sent, the Provenance and the
  resources written. A message seen again gets that ACK back and changes nothing.
* ``hl7_dead_letters``: every message that failed (AR or AE), with its text, the error and
  the number of attempts; ``status`` is ``open`` until a replay (or a resend) stores it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["MESSAGES", "DEAD_LETTERS", "DeadLetter", "message_key", "raw_key",
           "ensure_indexes", "stored_message", "record_dead_letter", "resolve_dead_letter",
           "dead_letters"]

MESSAGES = "hl7_messages"
DEAD_LETTERS = "hl7_dead_letters"


def message_key(sender: str, control_id: str) -> str:
    """The identity of a message: who sent it (MSH-3, MSH-4) and its control id (MSH-10)."""
    return hashlib.sha256(f"{sender}\x00{control_id}".encode()).hexdigest()[:40]


def raw_key(text: str) -> str:
    """The identity of text that is not a readable message: a hash of the text."""
    return "raw-" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:36]


@dataclass
class DeadLetter:
    key: str
    text: str
    ack_code: str
    error_code: str
    error: str
    location: str = ""
    sender: str = ""
    control_id: str = ""
    event: str = ""
    source: str = ""
    truncated: bool = False


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[MESSAGES].create_index([("receivedAt", DESCENDING)], name="received")
    await db[DEAD_LETTERS].create_index(
        [("status", ASCENDING), ("receivedAt", ASCENDING)], name="status_received")


async def stored_message(db: AsyncDatabase, key: str,
                         session: AsyncClientSession | None = None) -> dict[str, Any] | None:
    return await db[MESSAGES].find_one({"_id": key}, session=session)


async def record_dead_letter(db: AsyncDatabase, letter: DeadLetter, moment: datetime) -> None:
    """Store (or update, counting attempts) the dead letter of a failed message."""
    await db[DEAD_LETTERS].update_one(
        {"_id": letter.key},
        {"$set": {"text": letter.text, "ackCode": letter.ack_code,
                  "error": {"code": letter.error_code, "text": letter.error,
                            "location": letter.location},
                  "sender": letter.sender, "controlId": letter.control_id,
                  "event": letter.event, "source": letter.source,
                  "truncated": letter.truncated, "status": "open", "lastAttemptAt": moment},
         "$setOnInsert": {"receivedAt": moment},
         "$inc": {"attempts": 1}},
        upsert=True,
    )


async def resolve_dead_letter(db: AsyncDatabase, key: str, moment: datetime,
                              session: AsyncClientSession | None = None) -> None:
    await db[DEAD_LETTERS].update_one(
        {"_id": key, "status": "open"},
        {"$set": {"status": "resolved", "resolvedAt": moment}}, session=session)


async def dead_letters(db: AsyncDatabase, status: str | None = "open", limit: int = 0,
                       keys: list[str] | None = None) -> list[dict[str, Any]]:
    """Dead letters, oldest first; ``status`` None lists all."""
    query: dict[str, Any] = {}
    if status:
        query["status"] = status
    if keys:
        query["_id"] = {"$in": [str(k) for k in keys]}
    cursor = db[DEAD_LETTERS].find(query).sort([("receivedAt", ASCENDING), ("_id", ASCENDING)])
    if limit:
        cursor = cursor.limit(limit)
    return await cursor.to_list()
