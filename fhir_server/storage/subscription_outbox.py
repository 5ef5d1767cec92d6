"""The subscription outbox: the version documents (``history``) not yet looked at by the
subscription dispatcher.

Every version document is built by ``Resources._history_doc`` with ``outbox`` set to its
``lastUpdated``, so the outbox is written in the same transaction as the resource: a
rolled-back write leaves nothing, a committed one cannot be missed, whatever the write
path (REST, Bundles, loads, bulk paths). The one exception is the shipped content the
server stores itself (``Version.notify`` False: :mod:`.conformance_seed`). A sparse index
holds only the pending ones; the dispatcher reads them in ``(outbox, _id)`` order and
removes the field in the transaction that numbers their events
(:meth:`SubscriptionEvents.commit`).

Reads of resource *content* for notifications go through :meth:`visible`, which takes the
subscription owner's access policy, as every read of resources in this package does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from ..access import AccessPolicy
from ..json_io import from_bson
from .documents import HISTORY, for_history
from .filters import MATCH_NOTHING, and_filters

__all__ = ["OUTBOX", "Outbox", "Version", "version_key"]

OUTBOX = "outbox"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def version_key(resource_type: str, rid: str, vid: int) -> str:
    """The ``_id`` of a version document."""
    return f"{resource_type}/{rid}/_history/{vid:012d}"


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
        self._history = db[HISTORY]

    async def ensure_indexes(self) -> None:
        # sparse: only pending versions are in it (a partial index would do as well, but
        # not every MongoDB-compatible planner uses one for this query)
        await self._history.create_index([(OUTBOX, 1)], sparse=True, name="outbox")

    async def pending(self, limit: int) -> list[Version]:
        """The oldest versions not yet dispatched, in ``(outbox, _id)`` order (two
        versions of one resource written in the same millisecond: by version number).

        The index gives ``outbox`` order; versions sharing the last instant of a full
        batch are left for the next one, so a resource's versions are never split
        across batches out of order."""
        cursor = self._history.find({OUTBOX: {"$gte": _EPOCH}}, {"search": 0}).sort(
            OUTBOX, 1).limit(limit)
        docs = await cursor.to_list()
        if len(docs) == limit and docs[0][OUTBOX] != docs[-1][OUTBOX]:
            last = docs[-1][OUTBOX]
            docs = [d for d in docs if d[OUTBOX] != last]
        docs.sort(key=lambda d: (d[OUTBOX], d["_id"]))
        return [Version.of(doc) for doc in docs]

    async def versions(self, keys: Iterable[str]) -> dict[str, Version]:
        """Versions by key (the previous versions of updates and deletions)."""
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
