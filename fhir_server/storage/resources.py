"""Versioned storage of FHIR resources: current versions and their history.

Every write is one MongoDB multi-document transaction that changes the current version
(collection named after the resource type) and appends to ``history`` together, so a
crash leaves either both or neither. Optimistic locking (``If-Match``) is a compare-and-set
on ``vid`` inside that transaction: of two concurrent writers with the same expected
version exactly one commits, the other sees the new version and fails with 412.

Every method takes the caller's :class:`~fhir_server.access.AccessPolicy`. A resource the
policy hides is answered exactly as one that does not exist: 404 on read and vread (also
when it was deleted: never 410), 404 for ``If-Match`` before any version is compared, no
change and "nothing deleted" on delete. History documents carry the search index of their
version (a deletion: of the version it deleted), so history queries are filtered by the
same conditions as searches.
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

from profiles.definitions import resource_types

from .. import clock
from ..access import AccessPolicy, not_known
from ..errors import Gone, MethodNotAllowed, NotFound, PreconditionFailed
from ..json_io import from_bson, to_bson
from .documents import HISTORY, for_history, write_options
from .filters import MATCH_NOTHING, and_filters
from .subscription_outbox import OUTBOX
from .write_guards import WriteGuard

__all__ = ["Resources", "StoredResource", "HistoryPage", "Indexer"]

Indexer = Callable[[dict[str, Any]], dict[str, Any]]
T = TypeVar("T")
_APPEND_ONLY = "AuditEvent"


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


def _append_only(resource_type: str) -> None:
    if resource_type == _APPEND_ONLY:
        raise MethodNotAllowed(
            "AuditEvents are append-only and written by the server itself: they cannot "
            "be created, updated or deleted through the API", headers={"Allow": "GET"})


class Resources:
    def __init__(self, db: AsyncDatabase, indexer: Indexer) -> None:
        self._db = db
        self.indexer = indexer
        self.guards: list[WriteGuard] = []  # see .write_guards: run by every write below

    async def _guarded(self, resource_type: str, rid: str, old: dict[str, Any] | None,
                       new: dict[str, Any] | None, session: AsyncClientSession
                       ) -> dict[str, Any] | None:
        """``new`` as the write guards of its type leave it (``old`` a stored document)."""
        for guard in self.guards:
            if resource_type in guard.resource_types:
                previous = None if old is None else from_bson(old["resource"])
                new = await guard.before_write(resource_type, rid, previous, new, session)
        return new

    # -- transactions ---------------------------------------------------------------
    async def in_transaction(
        self,
        work: Callable[[AsyncClientSession], Awaitable[T]],
        session: AsyncClientSession | None = None,
    ) -> T:
        """Run ``work`` in the caller's transaction, or in a new one retried on conflicts."""
        if session is not None:
            return await work(session)
        async with self._db.client.start_session() as own:
            return await own.with_transaction(work, **write_options())

    # -- reads ----------------------------------------------------------------------
    async def _current(self, policy: AccessPolicy, resource_type: str, rid: str,
                       session: AsyncClientSession | None) -> dict[str, Any] | None:
        """The current document if the policy's query conditions admit it."""
        condition = await policy.read_filter(resource_type)
        if condition == MATCH_NOTHING:
            return None
        return await self._db[resource_type].find_one(
            and_filters({"_id": rid}, condition), {"search": 0}, session=session)

    async def read(self, policy: AccessPolicy, resource_type: str, rid: str,
                   session: AsyncClientSession | None = None) -> StoredResource:
        """The current version; 410 Gone after a delete, 404 when never written or hidden."""
        doc = await self._current(policy, resource_type, rid, session)
        if doc is not None:
            stored = self._from_current(resource_type, doc)
            revealed = await policy.reveal(stored.resource or {})
            if revealed is None or not await self._context_readable(policy, revealed,
                                                                     session):
                raise not_known(resource_type, rid)
            stored.resource = revealed
            return stored
        latest = await self._latest_history(resource_type, rid, session)
        if latest is not None and latest.deleted:
            content = await self._latest_content(policy, resource_type, rid)
            if content is not None and await policy.reveal(content) is not None:
                raise Gone(f"Resource {resource_type}/{rid} was deleted "
                           f"(version {latest.vid})")
        raise not_known(resource_type, rid)

    async def _context_readable(self, policy: AccessPolicy, resource: dict[str, Any],
                                session: AsyncClientSession | None) -> bool:
        """A Binary has the access of its securityContext (R4 binary.html): one of
        another resource is readable only while that resource is."""
        if resource.get("resourceType") != "Binary" or not policy.restricted:
            return True
        reference = (resource.get("securityContext") or {}).get("reference")
        if not isinstance(reference, str) or reference.startswith("Patient/"):
            return True
        target_type, _, target_id = reference.partition("/")
        if not target_id or "/" in target_id or target_type not in resource_types():
            return False
        try:
            await self.read(policy, target_type, target_id, session)
        except (NotFound, Gone):
            return False
        return True

    async def vread(self, policy: AccessPolicy, resource_type: str, rid: str,
                    vid: int) -> StoredResource:
        condition = for_history(await policy.read_filter(resource_type))
        if condition == MATCH_NOTHING:
            raise not_known(resource_type, rid)
        doc = await self._db[HISTORY].find_one(and_filters(
            {"type": resource_type, "id": rid, "vid": vid}, condition))
        if doc is None:
            raise NotFound(f"Version {vid} of {resource_type}/{rid} is not known")
        entry = self._from_history(doc)
        content = entry.resource or await self._latest_content(policy, resource_type, rid)
        revealed = None if content is None else await policy.reveal(content)
        if revealed is None or not await self._context_readable(policy, revealed, None):
            raise NotFound(f"Version {vid} of {resource_type}/{rid} is not known")
        if entry.deleted:
            raise Gone(f"Version {vid} of {resource_type}/{rid} is a deletion")
        entry.resource = revealed
        return entry

    async def _latest_content(self, policy: AccessPolicy, resource_type: str,
                              rid: str) -> dict[str, Any] | None:
        """The newest version of a resource that is not a deletion, within the policy's
        query conditions."""
        condition = for_history(await policy.read_filter(resource_type))
        if condition == MATCH_NOTHING:
            return None
        doc = await self._db[HISTORY].find_one(
            and_filters({"type": resource_type, "id": rid, "resource": {"$ne": None}},
                        condition), sort=[("vid", DESCENDING)])
        return None if doc is None else from_bson(doc["resource"])

    async def _latest_history(
        self, resource_type: str, rid: str, session: AsyncClientSession | None = None
    ) -> StoredResource | None:
        doc = await self._db[HISTORY].find_one(
            {"type": resource_type, "id": rid}, sort=[("vid", DESCENDING)], session=session
        )
        return None if doc is None else self._from_history(doc)

    async def current_for_change(self, policy: AccessPolicy, resource_type: str, rid: str,
                                 session: AsyncClientSession | None = None
                                 ) -> StoredResource:
        """The current version, unmasked, of a resource the caller is about to change
        (a patch): 404 when it does not exist or is hidden, 410 after a delete."""
        doc = await self._db[resource_type].find_one({"_id": rid}, {"search": 0},
                                                     session=session)
        if doc is None:
            await self.read(policy, resource_type, rid, session)  # 410 or 404
            raise not_known(resource_type, rid)
        stored = self._from_current(resource_type, doc)
        assert stored.resource is not None
        await policy.check_write(resource_type, stored.resource, stored.resource)
        return stored

    # -- writes ---------------------------------------------------------------------
    async def create(
        self,
        policy: AccessPolicy,
        resource: dict[str, Any],
        *,
        rid: str | None = None,
        session: AsyncClientSession | None = None,
    ) -> StoredResource:
        resource_type = resource["resourceType"]
        _append_only(resource_type)
        rid = rid or str(uuid.uuid4())

        async def work(s: AsyncClientSession) -> StoredResource:
            content = await self._guarded(resource_type, rid, None, resource, s)
            assert content is not None
            moment = clock.now()
            stored = _with_meta(content, rid, 1, moment)
            await policy.check_write(resource_type, None, stored)
            index = self.indexer(stored)
            await self._db[resource_type].insert_one(
                self._current_doc(rid, 1, moment, stored, index), session=s)
            await self._append_history(resource_type, rid, 1, moment, stored, index, "POST",
                                       s, created=True)
            return StoredResource(resource_type, rid, 1, moment, stored, "POST", created=True)

        return await self.in_transaction(work, session)

    async def update(
        self,
        policy: AccessPolicy,
        resource: dict[str, Any],
        rid: str,
        *,
        if_match: int | None = None,
        method: str = "PUT",
        session: AsyncClientSession | None = None,
    ) -> StoredResource:
        """Update, or create with the client's id (update-as-create)."""
        resource_type = resource["resourceType"]
        _append_only(resource_type)

        async def work(s: AsyncClientSession) -> StoredResource:
            collection = self._db[resource_type]
            current = await collection.find_one({"_id": rid}, {"search": 0}, session=s)
            content = await self._guarded(resource_type, rid, current, resource, s)
            assert content is not None
            moment = clock.now()
            if current is None:
                if if_match is not None:
                    raise not_known(resource_type, rid)
                latest = await self._latest_history(resource_type, rid, s)
                vid = 1 if latest is None else latest.vid + 1
                stored = _with_meta(content, rid, vid, moment)
                await policy.check_write(resource_type, None, stored)
                index = self.indexer(stored)
                await collection.insert_one(self._current_doc(rid, vid, moment, stored, index),
                                            session=s)
                await self._append_history(resource_type, rid, vid, moment, stored, index,
                                           method, s, created=True)
                return StoredResource(resource_type, rid, vid, moment, stored, method,
                                      created=True)
            old = self._from_current(resource_type, current)
            assert old.resource is not None
            vid = old.vid + 1
            stored = _with_meta(content, rid, vid, moment)
            await policy.check_write(resource_type, old.resource, stored)
            if if_match is not None and if_match != old.vid:
                raise PreconditionFailed(
                    f"Version conflict: If-Match W/\"{if_match}\" but the current version of "
                    f"{resource_type}/{rid} is W/\"{old.vid}\""
                )
            if _content(to_bson(old.resource)) == _content(to_bson(content)) and (
                content.get("meta", {}).get("versionId") in (None, str(old.vid))
            ):
                return old  # no change, no new version (as HAPI does)
            index = self.indexer(stored)
            result = await collection.replace_one(
                {"_id": rid, "vid": old.vid}, self._current_doc(rid, vid, moment, stored, index),
                session=s,
            )
            if result.matched_count != 1:  # pragma: no cover - the transaction conflicts first
                raise PreconditionFailed(f"{resource_type}/{rid} changed concurrently")
            await self._supersede(resource_type, rid, old.vid, moment, s)
            await self._append_history(resource_type, rid, vid, moment, stored, index, method, s)
            return StoredResource(resource_type, rid, vid, moment, stored, method)

        return await self.in_transaction(work, session)

    async def create_many(
        self,
        policy: AccessPolicy,
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
            _append_only(resource_type)
            resource = await self._guarded(resource_type, rid, None, resource, session) or {}
            stored = _with_meta(resource, rid, 1, moment)
            await policy.check_write(resource_type, None, stored)
            index = self.indexer(stored)
            current.setdefault(resource_type, []).append(
                self._current_doc(rid, 1, moment, stored, index))
            versions.append(self._history_doc(resource_type, rid, 1, moment, stored, index,
                                              method, True))
            created.append(StoredResource(resource_type, rid, 1, moment, stored, method,
                                          created=True))
        for resource_type, docs in current.items():
            await self._db[resource_type].insert_many(docs, session=session)
        if versions:
            await self._db[HISTORY].insert_many(versions, session=session)
        return created

    async def absent_ids(
        self, resource_type: str, rids: list[str], session: AsyncClientSession | None = None
    ) -> set[str]:
        """Those of ``rids`` that were never stored (no version at all, not even deleted):
        write planning only (an update of an existing id still goes through the policy)."""
        known = self._db[HISTORY].find({"type": resource_type, "id": {"$in": rids}},
                                       {"id": 1, "_id": 0}, session=session)
        return set(rids) - {doc["id"] async for doc in known}

    async def delete(
        self,
        policy: AccessPolicy,
        resource_type: str,
        rid: str,
        *,
        if_match: int | None = None,
        session: AsyncClientSession | None = None,
    ) -> StoredResource | None:
        """Logical delete: the resource leaves, a tombstone version joins its history.

        Returns the tombstone, or None when there was nothing to delete (nothing the
        caller may see).
        """
        _append_only(resource_type)

        async def work(s: AsyncClientSession) -> StoredResource | None:
            collection = self._db[resource_type]
            current = await collection.find_one({"_id": rid}, session=s)
            try:
                if current is None:
                    raise not_known(resource_type, rid)
                await policy.check_write(
                    resource_type, from_bson(current["resource"]), None)
            except NotFound:
                if if_match is not None:
                    raise
                return None
            await self._guarded(resource_type, rid, current, None, s)
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
            await self._append_history(resource_type, rid, vid, moment, None,
                                       current.get("search") or {}, "DELETE", s)
            return StoredResource(resource_type, rid, vid, moment, None, "DELETE")

        return await self.in_transaction(work, session)

    # -- history --------------------------------------------------------------------
    async def history(
        self,
        policy: AccessPolicy,
        types: list[str],
        rid: str | None = None,
        *,
        since: datetime | None = None,
        at: tuple[datetime, datetime] | None = None,
        count: int = 20,
        after: tuple[datetime, str] | None = None,
    ) -> HistoryPage:
        """Versions newest first of one resource (``rid``), one type, or the ``types``
        (system level); ``after`` is the keyset cursor of the previous page. Only the
        versions the policy shows (a deletion shows as its deleted version would)."""
        visible: list[dict[str, Any]] = []
        for resource_type in types:
            condition = for_history(await policy.filter(resource_type))
            if condition == MATCH_NOTHING:
                continue
            clause: dict[str, Any] = {"type": resource_type, **({"id": rid} if rid else {})}
            visible.append(and_filters(clause, condition))
        if not visible:
            return HistoryPage([], None)
        clauses: list[dict[str, Any]] = [visible[0] if len(visible) == 1
                                         else {"$or": visible}]
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
        query = and_filters(*clauses)
        cursor = self._db[HISTORY].find(query, {"search": 0}).sort(
            [("lastUpdated", DESCENDING), ("_id", DESCENDING)]
        ).limit(count + 1)
        docs = await cursor.to_list()
        next_cursor = None
        if len(docs) > count:
            docs = docs[:count]
            next_cursor = (docs[-1]["lastUpdated"], docs[-1]["_id"])
        entries = [self._from_history(d) for d in docs]
        for entry in entries:
            if entry.resource is not None:
                entry.resource = await policy.disclose(entry.resource)
        return HistoryPage(entries, next_cursor)

    async def history_types(self) -> list[str]:
        """The resource types that have a history (system-level history)."""
        return sorted(await self._db[HISTORY].distinct("type"))

    # -- documents ------------------------------------------------------------------
    @staticmethod
    def _current_doc(rid: str, vid: int, moment: datetime, resource: dict[str, Any],
                     index: dict[str, Any]) -> dict[str, Any]:
        return {
            "_id": rid,
            "vid": vid,
            "lastUpdated": moment,
            "resource": to_bson(resource),
            "search": index,
        }

    async def _append_history(
        self,
        resource_type: str,
        rid: str,
        vid: int,
        moment: datetime,
        resource: dict[str, Any] | None,
        index: dict[str, Any],
        method: str,
        session: AsyncClientSession,
        *,
        created: bool = False,
    ) -> None:
        try:
            await self._db[HISTORY].insert_one(
                self._history_doc(resource_type, rid, vid, moment, resource, index, method,
                                  created),
                session=session,
            )
        except DuplicateKeyError:  # pragma: no cover - guarded by the compare-and-set
            raise PreconditionFailed(f"{resource_type}/{rid} changed concurrently") from None

    @staticmethod
    def _history_doc(
        resource_type: str, rid: str, vid: int, moment: datetime,
        resource: dict[str, Any] | None, index: dict[str, Any], method: str, created: bool,
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
            "search": index,
            OUTBOX: moment,  # pending for the subscription dispatcher (subscription_outbox)
        }

    async def _supersede(
        self, resource_type: str, rid: str, vid: int, moment: datetime,
        session: AsyncClientSession,
    ) -> None:
        await self._db[HISTORY].update_one(
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
