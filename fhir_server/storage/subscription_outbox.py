"""The subscription outbox: the versions not yet looked at by the subscription
dispatcher, one small document each in ``subscription_outbox``.

An entry is ``{_id: <version key>, at: <its lastUpdated>}`` (the ``_id`` of the version
document in ``history``). :meth:`Resources.write_versions` inserts the entries of a write
with one ``insert_many`` in the same transaction as the versions, so a rolled-back write
leaves nothing, a committed one cannot be missed, whatever the write path (REST, Bundles,
loads, HL7 v2, the server's own writers). The one exception is the shipped content the
server stores itself (``Version.notify`` False: :mod:`.conformance_seed`). The dispatcher
reads the entries in ``(at, _id)`` order (index ``at_id``), the versions they name from
``history`` by ``_id``, and deletes the entries in the transaction that numbers their
events (:meth:`SubscriptionEvents.commit`).

Before issue 16 the outbox was an ``outbox`` field of the version document under a sparse
index, and the dispatcher removed the field from each one: on SecantusDB that update cost
about as much as writing the document. :meth:`Outbox.ensure_indexes` turns the versions
a database of that time still has marked into entries (once: then it drops the index).
Nothing reads the field any more: a marked document left by a process of the earlier
version that still writes (stop those before starting this one) is inert.

Reads of resource *content* for notifications go through :meth:`visible`, which takes the
subscription owner's access policy, as every read of resources in this package does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, OperationFailure

from ..access import AccessPolicy
from ..json_io import from_bson
from .documents import HISTORY, for_history, write_options
from .filters import MATCH_NOTHING, and_filters

__all__ = ["OUTBOX", "Outbox", "Version", "outbox_entry", "version_key"]

OUTBOX = "subscription_outbox"
_ORDER = [("at", ASCENDING), ("_id", ASCENDING)]
_MARK = "outbox"  # the field and sparse index of the design before issue 16
_MIGRATION_BATCH = 500


def version_key(resource_type: str, rid: str, vid: int) -> str:
    """The ``_id`` of a version document."""
    return f"{resource_type}/{rid}/_history/{vid:012d}"


def outbox_entry(key: str, moment: datetime) -> dict[str, Any]:
    """The outbox entry of the version ``key`` written at ``moment``."""
    return {"_id": key, "at": moment}


@dataclass
class Version:
    """One version of a resource as the dispatcher sees it (never sent as it is: content
    leaves only through :meth:`Outbox.visible`)."""

    key: str
    resource_type: str
    id: str
    vid: int
    moment: datetime
    created: bool
    resource: dict[str, Any] | None  # None: a deletion

    @property
    def interaction(self) -> str:
        """``create``, ``update`` or ``delete`` (SubscriptionTopic supportedInteraction)."""
        if self.resource is None:
            return "delete"
        return "create" if self.created else "update"

    @property
    def previous_key(self) -> str | None:
        return version_key(self.resource_type, self.id, self.vid - 1) if self.vid > 1 else None

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Version:
        resource = doc.get("resource")
        return cls(doc["_id"], doc["type"], doc["id"], doc["vid"], doc["lastUpdated"],
                   bool(doc.get("created")), None if resource is None else from_bson(resource))


class Outbox:
    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db
        self._entries = db[OUTBOX]
        self._history = db[HISTORY]

    async def ensure_indexes(self) -> None:
        """Create the collection beforehand (it is written inside transactions only) with
        its index, then move what a database of an earlier version left marked."""
        if OUTBOX not in await self._db.list_collection_names(filter={"name": OUTBOX}):
            with contextlib.suppress(CollectionInvalid):  # created meanwhile elsewhere
                await self._db.create_collection(OUTBOX)
        await self._entries.create_index(_ORDER, name="at_id")
        await self._move_marks()

    async def _move_marks(self) -> None:
        """Versions marked pending by an earlier version (an ``outbox`` field, sparse
        index ``outbox`` on ``history``) become entries, in batches, each in one
        transaction that also removes the marks it moved (so several processes starting
        at once move each one once); then the index goes. Runs while that index exists:
        once per database."""
        if _MARK not in [index["name"] async for index in await self._history.list_indexes()]:
            return

        async def move(session: AsyncClientSession) -> int:
            marked = await self._history.find(
                {_MARK: {"$exists": True}}, {_MARK: 1}, session=session
            ).limit(_MIGRATION_BATCH).to_list()
            if marked:
                await self._entries.bulk_write([
                    UpdateOne({"_id": doc["_id"]}, {"$setOnInsert": {"at": doc[_MARK]}},
                              upsert=True) for doc in marked], session=session)
                await self._history.update_many(
                    {"_id": {"$in": [doc["_id"] for doc in marked]}},
                    {"$unset": {_MARK: ""}}, session=session)
            return len(marked)

        moved = _MIGRATION_BATCH
        while moved == _MIGRATION_BATCH:
            async with self._db.client.start_session() as session:
                moved = await session.with_transaction(move, **write_options())
        with contextlib.suppress(OperationFailure):  # dropped meanwhile by another process
            await self._history.drop_index(_MARK)

    async def pending(self, limit: int) -> list[str]:
        """The keys of the oldest entries, at most ``limit``, in ``(at, _id)`` order (two
        versions of one resource written in the same millisecond: by version number).
        Entries sharing the last instant of a full batch are left for the next one, so a
        resource's versions are never split across batches out of order."""
        entries = await self._entries.find({}, sort=_ORDER, limit=limit).to_list()
        if len(entries) == limit and entries[0]["at"] != entries[-1]["at"]:
            last = entries[-1]["at"]
            entries = [entry for entry in entries if entry["at"] != last]
        return [entry["_id"] for entry in entries]

    async def versions(self, keys: Iterable[str]) -> dict[str, Version]:
        """Versions by key (those of the pending entries, the previous versions of
        updates and deletions)."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        cursor = self._history.find({"_id": {"$in": wanted}}, {"search": 0})
        return {doc["_id"]: Version.of(doc) async for doc in cursor}

    async def matching(self, keys: Iterable[str], condition: dict[str, Any]) -> set[str]:
        """Those of the version ``keys`` whose search index matches ``condition`` (a
        search filter compiled for current documents)."""
        wanted = sorted(set(keys))
        if not wanted or condition == MATCH_NOTHING:
            return set()
        query = and_filters({"_id": {"$in": wanted}}, for_history(condition))
        return {doc["_id"] async for doc in self._history.find(query, {"_id": 1})}

    async def visible(self, policy: AccessPolicy, versions: list[Version]
                      ) -> dict[str, dict[str, Any]]:
        """The ``versions`` ``policy`` may read now, by key, with their content as it may
        see it (masked where a Consent masks it); a deletion is visible when the version
        it deleted would be, and shows that version's content.

        The same decision as a vread: the policy's query conditions on the version
        document, then :meth:`AccessPolicy.reveal` on the content."""
        admitted: set[str] = set()
        for resource_type in {v.resource_type for v in versions}:
            keys = [v.key for v in versions if v.resource_type == resource_type]
            condition = await policy.read_filter(resource_type)
            if condition is None:
                admitted.update(keys)
            elif condition != MATCH_NOTHING:
                admitted |= await self.matching(keys, condition)
        deleted = await self.versions(v.previous_key for v in versions
                                      if v.resource is None and v.previous_key)
        shown: dict[str, dict[str, Any]] = {}
        for version in versions:
            before = deleted.get(version.previous_key or "")
            body = version.resource if version.resource is not None else (
                before.resource if before else None)
            if version.key not in admitted or body is None:
                continue
            if policy.restricted and version.resource_type == "Binary":
                continue  # a Binary's access follows its securityContext: never pushed
            revealed = await policy.reveal(body)
            if revealed is not None:
                shown[version.key] = revealed
        return shown

    async def visible_keys(self, policy: AccessPolicy, keys: list[str]
                           ) -> dict[str, dict[str, Any]]:
        """:meth:`visible` for versions given by key."""
        return await self.visible(policy, list((await self.versions(keys)).values()))
