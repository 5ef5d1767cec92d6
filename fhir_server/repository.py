"""The repository: versioned storage of FHIR resources in MongoDB.

Every write is one MongoDB multi-document transaction that changes the current version
(collection named after the resource type) and appends to ``history`` together, so a
crash leaves either both or neither. Optimistic locking (``If-Match``) is a compare-and-set
on ``vid`` inside that transaction: of two concurrent writers with the same expected
version exactly one commits, the other sees the new version and fails with 412.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pymongo import DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from . import clock
from .database import HISTORY, write_options
from .errors import Gone, NotFound, PreconditionFailed
from .json_io import from_bson, to_bson

__all__ = ["Repository", "StoredResource", "HistoryPage", "Indexer"]

Indexer = Callable[[dict[str, Any]], dict[str, Any]]
T = TypeVar("T")


@dataclass
class StoredResource:
    resource_type: str
    id: str
    vid: int
    last_updated: datetime
    resource: dict[str, Any] | None  # None for a delete tombstone
    method: str = "PUT"
    created: bool = False

    @property
    def deleted(self) -> bool:
        return self.resource is None

    @property
    def etag(self) -> str:
        return f'W/"{self.vid}"'


@dataclass
class HistoryPage:
    entries: list[StoredResource]
    next_cursor: tuple[datetime, str] | None


def _no_index(resource: dict[str, Any]) -> dict[str, Any]:
    return {}


def _with_meta(resource: dict[str, Any], rid: str, vid: int, moment: datetime) -> dict[str, Any]:
    """The resource as stored: ``id`` and server-owned ``meta`` fields set, key order kept."""
    meta = {k: v for k, v in resource.get("meta", {}).items()
            if k not in ("versionId", "lastUpdated")}
    meta = {"versionId": str(vid), "lastUpdated": clock.to_instant(moment), **meta}
    body = {k: v for k, v in resource.items() if k not in ("resourceType", "id", "meta")}
    return {"resourceType": resource["resourceType"], "id": rid, "meta": meta, **body}


def _content(resource: dict[str, Any]) -> dict[str, Any]:
    """What makes two versions different: everything but the server-owned meta."""
    meta = {k: v for k, v in resource.get("meta", {}).items()
            if k not in ("versionId", "lastUpdated")}
    return {**resource, "meta": meta}


class _Open:
    """The default access guard: no per-request access checks (``--auth off``, CLI)."""

    async def check_read(self, resource: dict[str, Any] | None) -> None:
        return None

    async def check_write(self, resource_type: str, old: dict[str, Any] | None,
                          new: dict[str, Any] | None) -> None:
        return None


class Repository:
    def __init__(self, db: AsyncDatabase, indexer: Indexer = _no_index) -> None:
        self.db = db
        self.indexer = indexer
        self.guard: Any = _Open()  # fhir_server.auth.enforce.AccessGuard when auth is on

    # -- transactions ---------------------------------------------------------------
    async def in_transaction(
        self,
        work: Callable[[AsyncClientSession], Awaitable[T]],
        session: AsyncClientSession | None = None,
    ) -> T:
        """Run ``work`` in the caller's transaction, or in a new one retried on conflicts."""
        if session is not None:
            return await work(session)
        async with self.db.client.start_session() as own:
            return await own.with_transaction(work, **write_options())

    # -- reads ----------------------------------------------------------------------
    async def read(
        self, resource_type: str, rid: str, session: AsyncClientSession | None = None
    ) -> StoredResource:
        """The current version; 410 Gone after a delete, 404 when never written."""
        doc = await self.db[resource_type].find_one({"_id": rid}, {"search": 0},
                                                    session=session)
        if doc is not None:
            stored = self._from_current(resource_type, doc)
            await self.guard.check_read(stored.resource)
            return stored
        latest = await self._latest_history(resource_type, rid, session)
        if latest is not None and latest.deleted:
            await self.guard.check_read(await self.latest_content(resource_type, rid))
            raise Gone(f"Resource {resource_type}/{rid} was deleted "
                       f"(version {latest.vid})")
        raise NotFound(f"Resource {resource_type}/{rid} is not known")

    async def vread(self, resource_type: str, rid: str, vid: int) -> StoredResource:
        doc = await self.db[HISTORY].find_one({"type": resource_type, "id": rid, "vid": vid})
        if doc is None:
            raise NotFound(f"Version {vid} of {resource_type}/{rid} is not known")
        entry = self._from_history(doc)
        await self.guard.check_read(entry.resource or await self.latest_content(
            resource_type, rid))
        if entry.deleted:
            raise Gone(f"Version {vid} of {resource_type}/{rid} is a deletion")
        return entry

    async def latest_content(self, resource_type: str, rid: str) -> dict[str, Any] | None:
        """The newest version of a resource that is not a deletion, if any."""
        doc = await self.db[HISTORY].find_one(
            {"type": resource_type, "id": rid, "resource": {"$ne": None}},
            sort=[("vid", DESCENDING)])
        return None if doc is None else from_bson(doc["resource"])

    async def _latest_history(
        self, resource_type: str, rid: str, session: AsyncClientSession | None = None
    ) -> StoredResource | None:
        doc = await self.db[HISTORY].find_one(
            {"type": resource_type, "id": rid}, sort=[("vid", DESCENDING)], session=session
        )
        return None if doc is None else self._from_history(doc)

    # -- writes ---------------------------------------------------------------------
    async def create(
        self,
        resource: dict[str, Any],
        *,
        rid: str | None = None,
        session: AsyncClientSession | None = None,
    ) -> StoredResource:
        resource_type = resource["resourceType"]
        rid = rid or str(uuid.uuid4())

        async def work(s: AsyncClientSession) -> StoredResource:
            moment = clock.now()
            stored = _with_meta(resource, rid, 1, moment)
            await self.guard.check_write(resource_type, None, stored)
            await self.db[resource_type].insert_one(
                self._current_doc(rid, 1, moment, stored), session=s
            )
            await self._append_history(resource_type, rid, 1, moment, stored, "POST", s,
                                       created=True)
            return StoredResource(resource_type, rid, 1, moment, stored, "POST", created=True)

        return await self.in_transaction(work, session)

    async def update(
        self,
        resource: dict[str, Any],
        rid: str,
        *,
        if_match: int | None = None,
        method: str = "PUT",
        session: AsyncClientSession | None = None,
    ) -> StoredResource:
        """Update, or create with the client's id (update-as-create)."""
        resource_type = resource["resourceType"]

        async def work(s: AsyncClientSession) -> StoredResource:
            collection = self.db[resource_type]
            current = await collection.find_one({"_id": rid}, {"search": 0}, session=s)
            moment = clock.now()
            if current is None:
                if if_match is not None:
                    raise PreconditionFailed(
                        f"If-Match W/\"{if_match}\" given but {resource_type}/{rid} "
                        "does not exist"
                    )
                latest = await self._latest_history(resource_type, rid, s)
                vid = 1 if latest is None else latest.vid + 1
                stored = _with_meta(resource, rid, vid, moment)
                await self.guard.check_write(resource_type, None, stored)
                await collection.insert_one(self._current_doc(rid, vid, moment, stored), session=s)
                await self._append_history(resource_type, rid, vid, moment, stored, method, s,
                                           created=True)
                return StoredResource(resource_type, rid, vid, moment, stored, method,
                                      created=True)
            old = self._from_current(resource_type, current)
            if if_match is not None and if_match != old.vid:
                raise PreconditionFailed(
                    f"Version conflict: If-Match W/\"{if_match}\" but the current version of "
                    f"{resource_type}/{rid} is W/\"{old.vid}\""
                )
            assert old.resource is not None
            if _content(to_bson(old.resource)) == _content(to_bson(resource)) and (
                resource.get("meta", {}).get("versionId") in (None, str(old.vid))
            ):
                return old  # no change, no new version (as HAPI does)
            vid = old.vid + 1
            stored = _with_meta(resource, rid, vid, moment)
            await self.guard.check_write(resource_type, old.resource, stored)
            result = await collection.replace_one(
                {"_id": rid, "vid": old.vid}, self._current_doc(rid, vid, moment, stored),
                session=s,
            )
            if result.matched_count != 1:  # pragma: no cover - the transaction conflicts first
                raise PreconditionFailed(f"{resource_type}/{rid} changed concurrently")
            await self._supersede(resource_type, rid, old.vid, moment, s)
            await self._append_history(resource_type, rid, vid, moment, stored, method, s)
            return StoredResource(resource_type, rid, vid, moment, stored, method)

        return await self.in_transaction(work, session)

    async def create_many(
        self,
        resources: list[tuple[dict[str, Any], str]],
        *,
        method: str = "POST",
        session: AsyncClientSession,
    ) -> list[StoredResource]:
        """Create new resources, each with its given id, in one bulk insert per collection
        (and one into ``history``): the fast path of transaction Bundles and bulk loads.

        Every id must be new: a fresh id, or one :meth:`absent_ids` returned in the same
        transaction. Runs only inside the caller's transaction (``session``).
        """
        moment = clock.now()
        created: list[StoredResource] = []
        current: dict[str, list[dict[str, Any]]] = {}
        versions: list[dict[str, Any]] = []
        for resource, rid in resources:
            resource_type = resource["resourceType"]
            stored = _with_meta(resource, rid, 1, moment)
            await self.guard.check_write(resource_type, None, stored)
            current.setdefault(resource_type, []).append(
                self._current_doc(rid, 1, moment, stored))
            versions.append(self._history_doc(resource_type, rid, 1, moment, stored, method,
                                              True))
            created.append(StoredResource(resource_type, rid, 1, moment, stored, method,
                                          created=True))
        for resource_type, docs in current.items():
            await self.db[resource_type].insert_many(docs, session=session)
        if versions:
            await self.db[HISTORY].insert_many(versions, session=session)
        return created

    async def absent_ids(
        self, resource_type: str, rids: list[str], session: AsyncClientSession | None = None
    ) -> set[str]:
        """Those of ``rids`` that were never stored (no version at all, not even deleted)."""
        known = self.db[HISTORY].find({"type": resource_type, "id": {"$in": rids}},
                                      {"id": 1, "_id": 0}, session=session)
        return set(rids) - {doc["id"] async for doc in known}

    async def delete(
        self,
        resource_type: str,
        rid: str,
        *,
        if_match: int | None = None,
        session: AsyncClientSession | None = None,
    ) -> StoredResource | None:
        """Logical delete: the resource leaves, a tombstone version joins its history.

        Returns the tombstone, or None when there was nothing to delete.
        """

        async def work(s: AsyncClientSession) -> StoredResource | None:
            collection = self.db[resource_type]
            current = await collection.find_one({"_id": rid}, {"search": 0}, session=s)
            if current is None:
                if if_match is not None:
                    raise PreconditionFailed(f"{resource_type}/{rid} does not exist")
                return None
            await self.guard.check_write(
                resource_type, self._from_current(resource_type, current).resource, None)
            if if_match is not None and if_match != current["vid"]:
                raise PreconditionFailed(
                    f"Version conflict: If-Match W/\"{if_match}\" but the current version of "
                    f"{resource_type}/{rid} is W/\"{current['vid']}\""
                )
            moment = clock.now()
            vid = current["vid"] + 1
            result = await collection.delete_one({"_id": rid, "vid": current["vid"]}, session=s)
            if result.deleted_count != 1:  # pragma: no cover
                raise PreconditionFailed(f"{resource_type}/{rid} changed concurrently")
            await self._supersede(resource_type, rid, current["vid"], moment, s)
            await self._append_history(resource_type, rid, vid, moment, None, "DELETE", s)
            return StoredResource(resource_type, rid, vid, moment, None, "DELETE")

        return await self.in_transaction(work, session)

    # -- history --------------------------------------------------------------------
    async def history(
        self,
        resource_type: str | None = None,
        rid: str | None = None,
        *,
        since: datetime | None = None,
        at: tuple[datetime, datetime] | None = None,
        count: int = 20,
        after: tuple[datetime, str] | None = None,
    ) -> HistoryPage:
        """Versions newest first; ``after`` is the keyset cursor of the previous page."""
        query: dict[str, Any] = {}
        if resource_type:
            query["type"] = resource_type
        if rid:
            query["id"] = rid
        clauses: list[dict[str, Any]] = []
        if since is not None:
            clauses.append({"lastUpdated": {"$gte": since}})
        if at is not None:
            low, high = at
            clauses.append({"lastUpdated": {"$lt": high}})
            clauses.append({"$or": [{"supersededAt": None}, {"supersededAt": {"$gt": low}}]})
        if after is not None:
            moment, key = after
            clauses.append({"$or": [
                {"lastUpdated": {"$lt": moment}},
                {"lastUpdated": moment, "_id": {"$lt": key}},
            ]})
        if clauses:
            query["$and"] = clauses
        cursor = self.db[HISTORY].find(query).sort(
            [("lastUpdated", DESCENDING), ("_id", DESCENDING)]
        ).limit(count + 1)
        docs = await cursor.to_list()
        next_cursor = None
        if len(docs) > count:
            docs = docs[:count]
            next_cursor = (docs[-1]["lastUpdated"], docs[-1]["_id"])
        return HistoryPage([self._from_history(d) for d in docs], next_cursor)

    # -- documents ------------------------------------------------------------------
    def _current_doc(
        self, rid: str, vid: int, moment: datetime, resource: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "_id": rid,
            "vid": vid,
            "lastUpdated": moment,
            "resource": to_bson(resource),
            "search": self.indexer(resource),
        }

    async def _append_history(
        self,
        resource_type: str,
        rid: str,
        vid: int,
        moment: datetime,
        resource: dict[str, Any] | None,
        method: str,
        session: AsyncClientSession,
        *,
        created: bool = False,
    ) -> None:
        try:
            await self.db[HISTORY].insert_one(
                self._history_doc(resource_type, rid, vid, moment, resource, method, created),
                session=session,
            )
        except DuplicateKeyError:  # pragma: no cover - guarded by the compare-and-set
            raise PreconditionFailed(f"{resource_type}/{rid} changed concurrently") from None

    @staticmethod
    def _history_doc(
        resource_type: str, rid: str, vid: int, moment: datetime,
        resource: dict[str, Any] | None, method: str, created: bool,
    ) -> dict[str, Any]:
        return {
            "_id": f"{resource_type}/{rid}/_history/{vid:012d}",
            "type": resource_type,
            "id": rid,
            "vid": vid,
            "lastUpdated": moment,
            "method": method,
            "created": created,
            "resource": None if resource is None else to_bson(resource),
        }

    async def _supersede(
        self, resource_type: str, rid: str, vid: int, moment: datetime,
        session: AsyncClientSession,
    ) -> None:
        await self.db[HISTORY].update_one(
            {"type": resource_type, "id": rid, "vid": vid},
            {"$set": {"supersededAt": moment}},
            session=session,
        )

    @staticmethod
    def _from_current(resource_type: str, doc: dict[str, Any]) -> StoredResource:
        return StoredResource(
            resource_type, doc["_id"], doc["vid"], doc["lastUpdated"],
            from_bson(doc["resource"]),
        )

    @staticmethod
    def _from_history(doc: dict[str, Any]) -> StoredResource:
        resource = doc.get("resource")
        return StoredResource(
            doc["type"], doc["id"], doc["vid"], doc["lastUpdated"],
            None if resource is None else from_bson(resource), doc.get("method", "PUT"),
            created=doc.get("created", False),
        )
