"""The patient review queue and the resolutions feeds follow.

``patient_review``: one document per incoming patient record that a feed could not place
with certainty (a probable ``$match``, or identifiers held by several Patients), keyed by
the incoming record's id as its source gives it (``Patient/<id>``)::

    {_id, status: open | linked | rejected, source: hl7 | load, patient, candidates:
     [{reference, grade, score}], reason, held: [{kind, key | origin, at}], createdAt,
     updatedAt, decidedAt, decidedBy, target}

``held`` lists what waits for the decision: HL7 v2 messages (their text is kept as a dead
letter with status ``held``) and files of ``fhir-server load``.

``patient_aliases``: ``{_id: <incoming Patient id>, target: <stored Patient id>, how, at}``,
where a feed's patient record was resolved to another stored Patient (by identifier, a
certain match, or a reviewer's link), so that the next message or file about it reaches
that Patient directly; a reviewer's rejection is an alias to itself ("a person of its own").
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from .. import clock
from ..json_io import from_bson, to_bson

__all__ = ["PatientReview", "REVIEW", "ALIASES"]

REVIEW = "patient_review"
ALIASES = "patient_aliases"


def _item(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if doc is None else {**doc, "patient": from_bson(doc["patient"])}


class PatientReview:
    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await self._db[REVIEW].create_index([("status", ASCENDING), ("createdAt", ASCENDING)],
                                            name="status_created")

    # -- the queue ------------------------------------------------------------------
    async def hold(self, key: str, *, source: str, patient: dict[str, Any],
                   candidates: list[dict[str, Any]], reason: str,
                   held: dict[str, Any]) -> dict[str, Any]:
        """Open (or add ``held`` to) the review of ``key``; the item as stored."""
        now = clock.now()
        doc = await self._db[REVIEW].find_one_and_update(
            {"_id": key},
            {"$set": {"patient": to_bson(patient), "candidates": candidates, "reason": reason,
                      "source": source, "updatedAt": now},
             "$setOnInsert": {"status": "open", "createdAt": now},
             "$addToSet": {"held": held}},
            upsert=True, return_document=ReturnDocument.AFTER)
        return _item(doc) or {}

    async def get(self, key: str) -> dict[str, Any] | None:
        return _item(await self._db[REVIEW].find_one({"_id": key}))

    async def items(self, status: str | None = "open", limit: int = 0) -> list[dict[str, Any]]:
        """Review items, oldest first; ``status`` None lists all."""
        cursor = self._db[REVIEW].find({"status": status} if status else {}).sort(
            [("createdAt", ASCENDING), ("_id", ASCENDING)])
        if limit:
            cursor = cursor.limit(limit)
        return [_item(d) or {} async for d in cursor]

    async def open_keys(self, keys: list[str]) -> set[str]:
        """Those of ``keys`` with an open review item."""
        if not keys:
            return set()
        return {d["_id"] async for d in self._db[REVIEW].find(
            {"_id": {"$in": sorted(set(keys))}, "status": "open"}, {"_id": 1})}

    async def decide(self, key: str, status: str, target: str | None, by: str
                     ) -> dict[str, Any] | None:
        """Close an open item as ``linked`` (to ``target``) or ``rejected``, and record the
        alias feeds will follow; None when there is no open item ``key``."""
        now = clock.now()
        doc = await self._db[REVIEW].find_one_and_update(
            {"_id": key, "status": "open"},
            {"$set": {"status": status, "target": target, "decidedAt": now, "decidedBy": by}},
            return_document=ReturnDocument.AFTER)
        if doc is None:
            return None
        incoming = key.removeprefix("Patient/")
        await self.record_alias(incoming, target or incoming, f"review-{status}")
        return _item(doc)

    # -- aliases --------------------------------------------------------------------
    async def record_alias(self, incoming: str, target: str, how: str) -> None:
        await self._db[ALIASES].update_one(
            {"_id": incoming}, {"$set": {"target": target, "how": how, "at": clock.now()}},
            upsert=True)

    async def alias(self, incoming: str) -> str | None:
        found = await self._db[ALIASES].find_one({"_id": incoming}, {"target": 1})
        return None if found is None else found["target"]

    async def aliases(self, incoming: list[str]) -> dict[str, str]:
        """The aliases of several incoming ids (those without one left out)."""
        if not incoming:
            return {}
        return {d["_id"]: d["target"] async for d in self._db[ALIASES].find(
            {"_id": {"$in": sorted(set(incoming))}}, {"target": 1})}
