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

from pymongo import DESCENDING, DeleteOne, InsertOne, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from profiles.definitions import resource_types

from .. import clock
from ..access import AccessPolicy, Hints, not_known
from ..errors import Gone, MethodNotAllowed, NotFound, PreconditionFailed
from ..json_io import from_bson, to_bson
from .documents import HISTORY, for_history, write_options
from .filters import MATCH_NOTHING, and_filters
from .subscription_outbox import OUTBOX, outbox_entry
from .write_guards import WriteGuard

__all__ = ["Resources", "StoredResource", "HistoryPage", "Indexer", "Put", "Version"]

Indexer = Callable[[dict[str, Any]], dict[str, Any]]
T = TypeVar("T")
_APPEND_ONLY = "AuditEvent"
_DUPLICATE_KEY = 11000


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
class Put:
    """One resource of a bulk update (:meth:`Resources.update_many`): its id and the
    ``If-Match`` version it must replace, if any."""

    resource: dict[str, Any]
    rid: str
    if_match: int | None = None


@dataclass
class Version:
    """One version about to be written: the current document it becomes (``stored``;
    None for a deletion) and the current version it replaces (``replaces``; None when
    there is no current document)."""

    resource_type: str
    rid: str
    vid: int
    moment: datetime
    stored: dict[str, Any] | None
    index: dict[str, Any]
    method: str
    created: bool = False
    replaces: int | None = None
    notify: bool = True  # False: not in the subscription outbox (the shipped content)

    def result(self) -> StoredResource:
        return StoredResource(self.resource_type, self.rid, self.vid, self.moment,
                              self.stored, self.method, created=self.created)


def history_id(resource_type: str, rid: str, vid: int) -> str:
    """The ``_id`` of a version in ``history``."""
    return f"{resource_type}/{rid}/_history/{vid:012d}"


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
        """``new`` as the write guards of its type leave it (``old`` the version it
        replaces), inside the write's transaction (``session``)."""
        for guard in self.guards:
            if resource_type in guard.resource_types:
                new = await guard.before_write(resource_type, rid, old, new, session)
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
        rid = rid or str(uuid.uuid4())

        async def work(s: AsyncClientSession) -> StoredResource:
            return (await self.create_many(policy, [(resource, rid)], session=s))[0]

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

        async def work(s: AsyncClientSession) -> StoredResource:
            puts = [Put(resource, rid, if_match)]
            return (await self.update_many(policy, puts, method=method, session=s))[0]

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
        return await self.create_versions(
            policy, self.new_versions(resources, clock.now(), method), session=session)

    def new_versions(self, resources: list[tuple[dict[str, Any], str]], moment: datetime,
                     method: str = "POST") -> list[Version]:
        """The first versions of new resources, index fields included: CPU work only (no
        database, no policy), so a bulk loader may prepare the next batch in a thread
        while the database stores the previous one (:meth:`create_versions`)."""
        versions = []
        for resource, rid in resources:
            resource_type = resource["resourceType"]
            _append_only(resource_type)
            stored = _with_meta(resource, rid, 1, moment)
            versions.append(Version(resource_type, rid, 1, moment, stored,
                                    self.indexer(stored), method, created=True))
        return versions

    async def create_versions(self, policy: AccessPolicy, versions: list[Version], *,
                              session: AsyncClientSession) -> list[StoredResource]:
        """Store versions :meth:`new_versions` prepared (each id must be new, as for
        :meth:`create_many`), within the caller's transaction; the write guards may
        complete a version (its index fields are then computed again)."""
        guarded = []
        for version in versions:
            content = await self._guarded(version.resource_type, version.rid, None,
                                          version.stored, session)
            if content is not version.stored:
                assert content is not None
                stored = _with_meta(content, version.rid, 1, version.moment)
                version = Version(version.resource_type, version.rid, 1, version.moment,
                                  stored, self.indexer(stored), version.method, created=True)
            await policy.check_write(version.resource_type, None, version.stored)
            guarded.append(version)
        await self.write_versions(guarded, session)
        return [v.result() for v in guarded]

    async def update_many(
        self,
        policy: AccessPolicy,
        puts: list[Put],
        *,
        method: str = "PUT",
        session: AsyncClientSession,
    ) -> list[StoredResource]:
        """Update (or create with their ids) several resources, each id at most once: the
        current versions read with one query per collection, the new ones written with one
        bulk write per collection (:meth:`write_versions`). An unchanged resource keeps its
        version (and is not written). Runs only inside the caller's transaction."""
        moment = clock.now()
        current = await self.current_many(
            [(p.resource["resourceType"], p.rid) for p in puts], session)
        results: list[StoredResource] = []
        versions: list[Version] = []
        for put in puts:
            resource_type = put.resource["resourceType"]
            version = await self.plan_update(
                policy, put, current[(resource_type, put.rid)], moment, method,
                session=session)
            if isinstance(version, Version):
                versions.append(version)
                results.append(version.result())
            else:
                results.append(version)
        await self.write_versions(versions, session)
        return results

    async def plan_update(self, policy: AccessPolicy, put: Put,
                          latest: StoredResource | int | None, moment: datetime,
                          method: str = "PUT", *, session: AsyncClientSession
                          ) -> Version | StoredResource:
        """The version an update writes, given what is stored: ``latest`` is the current
        version, or the number of the last version when the resource is deleted (0: never
        stored). The unchanged current version when there is nothing to write. The write
        guards run here, in the caller's transaction (``session``)."""
        rid = put.rid
        resource_type = put.resource["resourceType"]
        _append_only(resource_type)
        old_content = latest.resource if isinstance(latest, StoredResource) else None
        resource = await self._guarded(resource_type, rid, old_content, put.resource, session)
        assert resource is not None
        if not isinstance(latest, StoredResource):
            if put.if_match is not None:
                raise not_known(resource_type, rid)
            vid = (latest or 0) + 1
            stored = _with_meta(resource, rid, vid, moment)
            await policy.check_write(resource_type, None, stored)
            return Version(resource_type, rid, vid, moment, stored, self.indexer(stored),
                           method, created=True)
        old = latest
        assert old.resource is not None
        vid = old.vid + 1
        stored = _with_meta(resource, rid, vid, moment)
        await policy.check_write(resource_type, old.resource, stored)
        if put.if_match is not None and put.if_match != old.vid:
            raise PreconditionFailed(
                f"Version conflict: If-Match W/\"{put.if_match}\" but the current version "
                f"of {resource_type}/{rid} is W/\"{old.vid}\""
            )
        if _content(to_bson(old.resource)) == _content(to_bson(resource)) and (
            resource.get("meta", {}).get("versionId") in (None, str(old.vid))
        ):
            return old  # no change, no new version (as HAPI does)
        return Version(resource_type, rid, vid, moment, stored, self.indexer(stored), method,
                       replaces=old.vid)

    async def current_many(self, keys: list[tuple[str, str]],
                            session: AsyncClientSession | None
                            ) -> dict[tuple[str, str], StoredResource | int]:
        """For each (type, id): its current version, or the number of its last version
        (a deletion; 0 when never stored). One query per collection, and one on
        ``history`` for those without a current version. Keys of several types are first
        looked up together by the ``_id`` of their first version in ``history`` (every
        stored resource has one): the collections are then read only for the types with
        a resource that was stored, so new resources of T types cost one query, not 2T."""
        found: dict[tuple[str, str], StoredResource | int] = {}
        by_type: dict[str, list[str]] = {}
        if len({resource_type for resource_type, _ in keys}) > 1:
            keys = await self._ever_stored(keys, found, session)
        for resource_type, rid in keys:
            by_type.setdefault(resource_type, []).append(rid)
        for resource_type, rids in by_type.items():
            query = {"_id": rids[0] if len(rids) == 1 else {"$in": rids}}
            async for doc in self._db[resource_type].find(query, {"search": 0},
                                                          session=session):
                found[(resource_type, doc["_id"])] = self._from_current(resource_type, doc)
            absent = [rid for rid in rids if (resource_type, rid) not in found]
            for rid in absent:
                found[(resource_type, rid)] = 0
            if absent:
                versions = self._db[HISTORY].find(
                    {"type": resource_type,
                     "id": absent[0] if len(absent) == 1 else {"$in": absent}},
                    {"id": 1, "vid": 1}, session=session)
                async for doc in versions:
                    key = (resource_type, doc["id"])
                    found[key] = max(found[key], doc["vid"])  # type: ignore[call-overload]
        return found

    async def _ever_stored(self, keys: list[tuple[str, str]],
                           found: dict[tuple[str, str], StoredResource | int],
                           session: AsyncClientSession | None) -> list[tuple[str, str]]:
        """Those of ``keys`` with a first version in ``history`` (one query on its
        ``_id``); the others are entered in ``found`` as never stored (0)."""
        first = {history_id(resource_type, rid, 1): (resource_type, rid)
                 for resource_type, rid in keys}
        ids = list(first)
        cursor = self._db[HISTORY].find(
            {"_id": ids[0] if len(ids) == 1 else {"$in": ids}}, {"_id": 1}, session=session)
        stored = {doc["_id"] async for doc in cursor}
        for key, value in first.items():
            if key not in stored:
                found[value] = 0
        return [value for key, value in first.items() if key in stored]

    async def latest(self, resource_type: str, rid: str,
                     session: AsyncClientSession | None) -> StoredResource | int:
        """The current version of one resource, or the number of its last version (a
        deletion; 0 when never stored), from one query on ``history``."""
        doc = await self._db[HISTORY].find_one(
            {"type": resource_type, "id": rid}, {"search": 0}, sort=[("vid", DESCENDING)],
            session=session)
        if doc is None:
            return 0
        version = self._from_history(doc)
        return version.vid if version.deleted else version

    async def write_versions(self, versions: list[Version],
                             session: AsyncClientSession) -> None:
        """Write new versions: per collection one bulk write of the current documents
        (insert, compare-and-set replace on ``vid``, or delete), then one update marking
        the replaced versions superseded, one insert of the versions into ``history`` and
        one of their entries into the subscription outbox (those with ``notify``).
        Every version document is built by :meth:`_history_doc`. A concurrent change of a
        replaced version is a 412 (inside a transaction, MongoDB reports the conflict
        first and the transaction is retried)."""
        if not versions:
            return
        operations: dict[str, list[Any]] = {}
        for v in versions:
            ops = operations.setdefault(v.resource_type, [])
            if v.stored is None:
                ops.append(DeleteOne({"_id": v.rid, "vid": v.replaces}))
            elif v.replaces is None:
                ops.append(InsertOne(self._current_doc(v.rid, v.vid, v.moment, v.stored,
                                                       v.index)))
            else:
                ops.append(ReplaceOne({"_id": v.rid, "vid": v.replaces}, self._current_doc(
                    v.rid, v.vid, v.moment, v.stored, v.index)))
        for resource_type, ops in operations.items():
            try:
                result = await self._db[resource_type].bulk_write(ops, session=session)
            except BulkWriteError as error:
                raise _conflict(versions, error) from error
            expected = sum(1 for op in ops if not isinstance(op, InsertOne))
            if result.matched_count + result.deleted_count != expected:  # pragma: no cover
                raise _conflict(versions)
        replaced = [history_id(v.resource_type, v.rid, v.replaces) for v in versions
                    if v.replaces is not None]
        if replaced:
            await self._db[HISTORY].update_many(
                {"_id": replaced[0] if len(replaced) == 1 else {"$in": replaced}},
                {"$set": {"supersededAt": versions[0].moment}}, session=session)
        try:
            await self._db[HISTORY].insert_many(
                [self._history_doc(v.resource_type, v.rid, v.vid, v.moment, v.stored, v.index,
                                   v.method, v.created) for v in versions],
                ordered=False, session=session)
        except BulkWriteError as error:  # pragma: no cover - guarded by the compare-and-set
            raise _conflict(versions, error) from error
        pending = [outbox_entry(history_id(v.resource_type, v.rid, v.vid), v.moment)
                   for v in versions if v.notify]
        if pending:  # for the subscription dispatcher (.subscription_outbox)
            await self._db[OUTBOX].insert_many(pending, session=session)

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

        async def work(s: AsyncClientSession) -> StoredResource | None:
            deleted = await self.delete_many(policy, [(resource_type, rid, if_match)],
                                             session=s)
            return deleted[0]

        return await self.in_transaction(work, session)

    async def delete_many(
        self,
        policy: AccessPolicy,
        targets: list[tuple[str, str, int | None]],
        *,
        session: AsyncClientSession,
    ) -> list[StoredResource | None]:
        """Logical deletes of (type, id, If-Match version or None), each id at most once,
        with one read and one bulk write per collection: the tombstones, None where there
        was nothing the caller may see to delete (404 instead with an If-Match)."""
        moment = clock.now()
        for resource_type, _, _ in targets:
            _append_only(resource_type)
        by_type: dict[str, list[str]] = {}
        for resource_type, rid, _ in targets:
            by_type.setdefault(resource_type, []).append(rid)
        current: dict[tuple[str, str], dict[str, Any]] = {}
        for resource_type, rids in by_type.items():
            async for doc in self._db[resource_type].find({"_id": {"$in": rids}},
                                                          session=session):
                current[(resource_type, doc["_id"])] = doc
        results: list[StoredResource | None] = []
        versions: list[Version] = []
        for resource_type, rid, if_match in targets:
            doc = current.get((resource_type, rid))
            try:
                if doc is None:
                    raise not_known(resource_type, rid)
                old = from_bson(doc["resource"])
                await policy.check_write(resource_type, old, None)
            except NotFound:
                if if_match is not None:
                    raise
                results.append(None)
                continue
            await self._guarded(resource_type, rid, old, None, session)
            if if_match is not None and if_match != doc["vid"]:
                raise PreconditionFailed(
                    f"Version conflict: If-Match W/\"{if_match}\" but the current version of "
                    f"{resource_type}/{rid} is W/\"{doc['vid']}\""
                )
            version = Version(resource_type, rid, doc["vid"] + 1, moment, None,
                              doc.get("search") or {}, "DELETE", replaces=doc["vid"])
            versions.append(version)
            results.append(version.result())
        await self.write_versions(versions, session)
        return results

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
        versions the policy shows (a deletion shows as its deleted version would); the
        query tests no content, so a masked resource's versions are listed, masked."""
        policy = policy.narrowed(Hints(policy.hints.patients, content=False))
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

    @staticmethod
    def _history_doc(
        resource_type: str, rid: str, vid: int, moment: datetime,
        resource: dict[str, Any] | None, index: dict[str, Any], method: str, created: bool,
    ) -> dict[str, Any]:
        return {
            "_id": history_id(resource_type, rid, vid),
            "type": resource_type,
            "id": rid,
            "vid": vid,
            "lastUpdated": moment,
            "method": method,
            "created": created,
            "resource": None if resource is None else to_bson(resource),
            "search": index,
        }

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


def _conflict(versions: list[Version], error: BulkWriteError | None = None
              ) -> PreconditionFailed:
    """412 for a version written meanwhile (a duplicate key); other errors go on as they
    are (a transaction's write conflict is retried by ``with_transaction``)."""
    if error is not None and any(e.get("code") != _DUPLICATE_KEY
                                 for e in error.details.get("writeErrors", [])):
        raise error
    names = ", ".join(f"{v.resource_type}/{v.rid}" for v in versions[:3])
    return PreconditionFailed(f"{names}{' ...' if len(versions) > 3 else ''} changed "
                              "concurrently")
