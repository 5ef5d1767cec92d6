"""Storing the shipped conformance content in MongoDB, in the background of a running server.

Every shipped CodeSystem, ValueSet and ConceptMap (:func:`terminology.local.shipped_resources`)
and the shipped profiles (:func:`profiles.registry.shipped_definitions`), with the server's
OperationDefinitions and SubscriptionTopics, are stored as resources with their own ids,
tagged ``shipped`` in ``meta.tag``, so that they can be read and searched like any other
(https://hl7.org/fhir/R4/http.html#read). The server answers before they are stored:
:func:`keep_seeding` runs in its background (``fhir_server.shipped_seeding``), retrying
after a failure, and requests on the shipped types wait until :func:`content_stored` says
the current content version is (``fhir_server.interactions.shipped_gate``). Controlled by
``FHIR_TERMINOLOGY_SEED`` (``on``, the default, or ``off``).

A client's resource is never replaced. A shipped resource is *created* only under an id
that was never used (:meth:`Resources.absent_ids`, in the same transaction as the
insert), and *updated* only while the stored version is still the one seeding wrote:
each batch records, in ``shipped_content``, the ids it stored with their content digest
and version. A resource a client wrote or deleted under a shipped id is left alone and
logged, now and on every later start.

Bulk: per resource type, batches of at most :data:`BATCH_SIZE` ids and about
:data:`BATCH_BYTES` of content, each one transaction (``absent_ids``, one bulk create, the
rare updates, the batch record); the versions of the next :data:`LOOKAHEAD` batches
(their search index fields, the CPU part) are prepared in threads while the database
stores the current one.
One batch at a time: concurrent ones conflict on SecantusDB and are retried whole (2 to 4
of 11 to 16 batches when two ran at once). What is stored is kept small, since the
database's work per byte is what a first start waits for: the index fields come from the
indexer the caller gives (the server's leaves out the ``_text``/``_content`` words, three
quarters of the index of code lists), and the versions are no subscription events (not in
the outbox, which the dispatcher would otherwise read through after every first start).

Several processes on one database: the lease ``conformance_state/shipped-content`` (its
owner, a heartbeat after every batch; ``state: done`` and the content version once all is
stored) lets exactly one seed; :func:`seed_shipped` in the others waits for it, at most
``FHIR_SEED_WAIT_SECONDS`` (default 300; in the background, :func:`keep_seeding` then
tries again). A lease whose owner is gone (its pid no longer exists on this host, or no
heartbeat for :data:`LEASE`) is taken over, and the new owner continues after the batches
already committed; an owner that fails or is cancelled (the server stopping) gives the
lease up at once. The content version is a digest of all of it, so a change to any
shipped file is stored on the next start.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any

import orjson
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from .. import clock
from ..errors import Gone, NotFound
from .documents import ensure_base_indexes

__all__ = ["SHIPPED_TAG", "STATE", "RECORDS", "MARKER", "BATCH_SIZE", "BATCH_BYTES", "LEASE",
           "SeedOutcome", "SeedingError", "ShippedContent", "seed_shipped",
           "seeding_enabled", "seed_wait_seconds", "content_digest", "shipped_versions",
           "keep_seeding", "content_stored"]

SHIPPED_TAG = {"system": "https://mch-fhir.org/fhir/CodeSystem/content-origin",
               "code": "shipped"}
STATE = "conformance_state"
RECORDS = "shipped_content"
MARKER = "shipped-content"
BATCH_SIZE = 500
BATCH_BYTES = 4 * 1024 * 1024  # of JSON: a batch's transaction stays well within the cache
LOOKAHEAD = 3  # batches prepared ahead of the one stored
LEASE = timedelta(seconds=60)
RETRY_SECONDS = 5.0  # after a failed seeding, in the background
_POLL_SECONDS = 0.1

log = logging.getLogger(__name__)


class SeedingError(RuntimeError):
    """Another process held the seeding lease for longer than the wait allows."""


def seeding_enabled() -> bool:
    return os.environ.get("FHIR_TERMINOLOGY_SEED", "on").lower() not in ("off", "0", "false")


def seed_wait_seconds() -> float:
    """``FHIR_SEED_WAIT_SECONDS``: how long anything waits for the shipped content."""
    return float(os.environ.get("FHIR_SEED_WAIT_SECONDS", "300"))


def _decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())
    raise TypeError(f"cannot serialise {type(value).__name__}")


def content_digest(resource: dict[str, Any]) -> str:
    """A digest of what makes two versions different: everything but ``meta.versionId``
    and ``meta.lastUpdated``, which the server sets on every write."""
    return _digest_and_size(resource)[0]


def _digest_and_size(resource: dict[str, Any]) -> tuple[str, int]:
    """:func:`content_digest`, and the size of the JSON it digests."""
    meta = {k: v for k, v in resource.get("meta", {}).items()
            if k not in ("versionId", "lastUpdated")}
    body = orjson.dumps({**resource, "meta": meta}, default=_decimal,
                        option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()[:32], len(body)


def _tagged(resource: dict[str, Any]) -> dict[str, Any]:
    meta = resource.get("meta", {})
    tags = [t for t in meta.get("tag", []) if t != SHIPPED_TAG] + [SHIPPED_TAG]
    return {**resource, "meta": {**meta, "tag": tags}}


@dataclass(frozen=True)
class ShippedResource:
    resource: dict[str, Any]  # as it is stored: tagged shipped
    digest: str
    size: int  # bytes of JSON

    @property
    def kind(self) -> str:
        return self.resource["resourceType"]

    @property
    def id(self) -> str:
        return self.resource["id"]


@dataclass(frozen=True)
class Batch:
    key: str  # content version / type / number: the id of its record
    members: list[ShippedResource]


class ShippedContent:
    """The content to store, tagged and digested, in batches by type and id (at most
    ``batch_size`` resources and about :data:`BATCH_BYTES` of JSON each), with its version
    (a digest of all of it)."""

    def __init__(self, resources: Iterable[dict[str, Any]],
                 batch_size: int = BATCH_SIZE) -> None:
        tagged = (_tagged(r) for r in resources)
        self.resources = sorted((ShippedResource(r, *_digest_and_size(r)) for r in tagged),
                                key=lambda s: (s.kind, s.id))
        self.version = hashlib.sha256("".join(
            f"{s.kind}/{s.id}={s.digest};" for s in self.resources).encode()).hexdigest()[:16]
        self.batches: list[Batch] = []
        for kind, group in groupby(self.resources, key=lambda s: s.kind):
            members: list[ShippedResource] = []
            size = 0
            for member in group:
                if members and (len(members) == batch_size
                                or size + member.size > BATCH_BYTES):
                    self._add(kind, members)
                    members, size = [], 0
                members.append(member)
                size += member.size
            self._add(kind, members)

    def _add(self, kind: str, members: list[ShippedResource]) -> None:
        number = sum(1 for b in self.batches if b.members[0].kind == kind)
        self.batches.append(Batch(f"{self.version}/{kind}/{number:04d}", members))


@dataclass
class SeedOutcome:
    """What one call did; ``seeded`` is False when another process did the work."""

    seeded: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    left_alone: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def stored(self) -> int:
        return self.created + self.updated

    def add(self, other: SeedOutcome) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.left_alone += other.left_alone


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _abandoned(marker: dict[str, Any], now: datetime, lease: timedelta) -> bool:
    """Whether the lease holder is gone: no heartbeat within ``lease``, or its process no
    longer exists on this host."""
    if marker.get("heartbeat") is None or marker["heartbeat"] < now - lease:
        return True
    owner = marker.get("owner") or {}
    return owner.get("host") == socket.gethostname() and not _pid_alive(int(owner.get("pid", 0)))


class _Seeder:
    def __init__(self, db: AsyncDatabase, repository: Any, content: ShippedContent) -> None:
        self.db = db
        self.repository = repository
        self.content = content
        self.owner = {"host": socket.gethostname(), "pid": os.getpid(),
                      "token": uuid.uuid4().hex}
        self.recorded: dict[tuple[str, str], tuple[str, int]] = {}

    async def claim(self, lease: timedelta) -> str:
        """``done`` (this content version is stored), ``claimed`` (this process stores it
        now) or ``held`` (a live process holds the lease)."""
        state = self.db[STATE]
        now = datetime.now(UTC)
        marker = await state.find_one({"_id": MARKER})
        if marker is not None and marker.get("version") == self.content.version and \
                marker.get("state") == "done":
            return "done"
        claim = {"version": self.content.version, "state": "loading", "owner": self.owner,
                 "heartbeat": now, "started": now}
        if marker is None:
            try:
                await state.insert_one({"_id": MARKER, **claim})
                return "claimed"
            except DuplicateKeyError:
                return "held"
        if marker.get("state") == "loading" and not _abandoned(marker, now, lease):
            return "held"
        taken = await state.update_one(  # compare-and-set on the marker as read
            {"_id": MARKER, "state": marker.get("state"), "version": marker.get("version"),
             "heartbeat": marker.get("heartbeat")},
            {"$set": claim})
        return "claimed" if taken.modified_count == 1 else "held"

    async def run(self) -> SeedOutcome | None:
        """Store every batch not yet recorded for this version; None when another
        process took the lease over meanwhile."""
        outcome = SeedOutcome(seeded=True)
        await ensure_base_indexes(self.db)  # absent_ids looks ids up in history
        self.recorded = await _recorded(self.db, self.content.version, None)
        done = {d["_id"] async for d in self.db[RECORDS].find(
            {"version": self.content.version}, {"_id": 1})}
        pending = [b for b in self.content.batches if b.key not in done]
        outcome.unchanged += sum(len(b.members) for b in self.content.batches
                                 if b.key in done)
        # the next batches' versions (index fields) are computed in threads while the
        # database stores the current one: a slow one (the first quantity starts the UCUM
        # registry, seconds) then does not leave the database idle
        ahead = deque(self._prepare(b) for b in pending[:LOOKAHEAD])
        try:
            for number, batch in enumerate(pending):
                versions = await ahead.popleft()
                if number + LOOKAHEAD < len(pending):
                    ahead.append(self._prepare(pending[number + LOOKAHEAD]))
                outcome.add(await self.repository.in_transaction(
                    lambda session, batch=batch, versions=versions:
                    self._store(batch, session, versions)))
                if not await self._heartbeat():
                    return None
        finally:
            for future in ahead:
                future.cancel()
        await self._forget_older_records()
        finished = await self.db[STATE].update_one(
            {"_id": MARKER, "owner.token": self.owner["token"]},
            {"$set": {"state": "done", "finished": datetime.now(UTC)}})
        return outcome if finished.matched_count == 1 else None

    async def release(self) -> None:
        """Give the lease up after a failure, so that another process need not wait for it
        to expire (best effort: the database may be what failed)."""
        try:
            await self.db[STATE].update_one(
                {"_id": MARKER, "owner.token": self.owner["token"]},
                {"$set": {"heartbeat": None}})
        except PyMongoError:
            log.warning("Could not release the seeding lease; it expires in %s", LEASE)

    async def _forget_older_records(self) -> None:
        """The records of older content versions, one document at a time: a multi-document
        delete outside a transaction holds SecantusDB 0.7's collection lock while it
        retries a write conflict, and deadlocks with a transaction on the same documents
        (another process's batch)."""
        older = self.db[RECORDS].find({"version": {"$ne": self.content.version}}, {"_id": 1})
        for key in [doc["_id"] async for doc in older]:
            await self.db[RECORDS].delete_one(
                {"_id": key, "version": {"$ne": self.content.version}})

    async def _heartbeat(self) -> bool:
        result = await self.db[STATE].update_one(
            {"_id": MARKER, "owner.token": self.owner["token"]},
            {"$set": {"heartbeat": datetime.now(UTC)}})
        return result.matched_count == 1

    def _prepare(self, batch: Batch) -> asyncio.Future[dict[str, Any]]:
        """The first versions of a batch's members not stored before, by id."""
        members = [(m.resource, m.id) for m in batch.members
                   if self.recorded.get((m.kind, m.id), ("",))[0] != m.digest]

        def versions() -> dict[str, Any]:
            return {v.rid: v for v in self.repository.new_versions(members, clock.now())}

        return asyncio.ensure_future(asyncio.to_thread(versions))

    async def _store(self, batch: Batch, session: AsyncClientSession,
                     versions: dict[str, Any]) -> SeedOutcome:
        """One transaction: create the absent ids, update those seeding stored that nobody
        changed since, record the batch. Retried whole on a write conflict."""
        result = SeedOutcome(seeded=True)
        records: list[tuple[str, str, int]] = []
        carried = {m.id: self.recorded[(m.kind, m.id)] for m in batch.members
                   if self.recorded.get((m.kind, m.id), ("",))[0] == m.digest}
        others = [m for m in batch.members if m.id not in carried]
        kind = batch.members[0].kind
        absent = await self.repository.absent_ids(kind, [m.id for m in others],
                                                  session=session) if others else set()
        creates = []
        for member in batch.members:
            if member.id in carried:  # stored as shipped already, changed since or not
                records.append((member.id, member.digest, carried[member.id][1]))
                result.unchanged += 1
            elif member.id in absent:
                creates.append((member.resource, member.id))
                records.append((member.id, member.digest, 1))
            elif (kept := await self._existing(member, session)) is not None:
                vid, updated = kept
                records.append((member.id, member.digest, vid))
                result.updated += updated
                result.unchanged += not updated
            else:
                result.left_alone.append(f"{kind}/{member.id}")
        if creates:
            await self.repository.create_versions([versions[rid] for _, rid in creates],
                                                  session=session)
        result.created = len(creates)
        await self.db[RECORDS].replace_one(
            {"_id": batch.key},
            {"_id": batch.key, "version": self.content.version, "type": kind,
             "recorded": datetime.now(UTC), "resources": records},
            upsert=True, session=session)
        return result

    async def _existing(self, member: ShippedResource, session: AsyncClientSession
                        ) -> tuple[int, bool] | None:
        """For an id stored before: ``(version, updated)`` when the stored resource is
        what seeding wrote (updated to ``member`` now) or identical content stored before
        records existed; None when it belongs to a client."""
        try:
            stored = await self.repository.read(member.kind, member.id, session=session)
        except (Gone, NotFound):
            return None  # deleted by a client: not brought back
        assert stored.resource is not None
        recorded = self.recorded.get((member.kind, member.id))
        if recorded is not None and recorded[1] == stored.vid:
            new = await self.repository.update(member.resource, member.id,
                                               if_match=stored.vid, session=session)
            return new.vid, True
        if recorded is None and content_digest(stored.resource) == member.digest:
            return stored.vid, False
        return None


async def seed_shipped(db: AsyncDatabase, repository: Any,
                       resources: ShippedContent | Iterable[dict[str, Any]],
                       *, batch_size: int = BATCH_SIZE, wait_seconds: float | None = None,
                       lease: timedelta = LEASE) -> SeedOutcome:
    """Store ``resources`` (the shipped content) with ``repository`` as this module
    describes, or wait until another process has; what this call did.

    Raises :class:`SeedingError` when a live process holds the lease for longer than
    ``wait_seconds`` (default ``FHIR_SEED_WAIT_SECONDS``).
    """
    started = time.monotonic()
    content = resources if isinstance(resources, ShippedContent) else ShippedContent(
        resources, batch_size)
    seeder = _Seeder(db, repository, content)
    bound = seed_wait_seconds() if wait_seconds is None else wait_seconds
    while True:
        claim = await seeder.claim(lease)
        if claim == "done":
            log.info("Shipped content stored already (version %s)", seeder.content.version)
            return SeedOutcome(seeded=False, unchanged=len(seeder.content.resources),
                               seconds=time.monotonic() - started)
        if claim == "claimed" and (outcome := await _run(seeder)) is not None:
            break
        if time.monotonic() - started >= bound:
            raise SeedingError(
                f"another process has been storing the shipped content for more than "
                f"{bound:.0f} s (see {STATE}/{MARKER} in the database); wait for it or "
                f"raise FHIR_SEED_WAIT_SECONDS")
        await asyncio.sleep(_POLL_SECONDS)
    outcome.seconds = time.monotonic() - started
    for reference in outcome.left_alone:
        log.warning("Shipped %s not stored: a client wrote or deleted that resource", reference)
    log.info("Stored %d shipped CodeSystems, ValueSets, ConceptMaps and StructureDefinitions "
             "in %.2f s (%d created, %d updated, %d stored before, %d left to clients)",
             outcome.stored, outcome.seconds, outcome.created, outcome.updated,
             outcome.unchanged, len(outcome.left_alone))
    return outcome


async def _run(seeder: _Seeder) -> SeedOutcome | None:
    try:
        return await seeder.run()
    except (Exception, asyncio.CancelledError):  # a failure, or the server stopping
        await asyncio.shield(seeder.release())
        raise


async def keep_seeding(db: AsyncDatabase, repository: Any, content: ShippedContent, *,
                       retry_seconds: float = RETRY_SECONDS) -> SeedOutcome:
    """:func:`seed_shipped` in the background of a running server, until the content is
    stored (by this process or another): a failure (the database's, or a lease held for
    too long) is logged and tried again after ``retry_seconds``. Cancelled when the server
    stops; the next start continues after the batches committed."""
    while True:
        try:
            return await seed_shipped(db, repository, content)
        except Exception:  # noqa: BLE001 - the database's failure, or a lease held too long
            log.exception("Storing the shipped content failed; trying again in %.0f s",
                          retry_seconds)
        await asyncio.sleep(retry_seconds)


async def content_stored(db: AsyncDatabase, version: str) -> bool:
    """Whether shipped content ``version`` is stored (one read of the lease document)."""
    marker = await db[STATE].find_one({"_id": MARKER}, {"version": 1, "state": 1})
    return marker is not None and marker.get("version") == version and \
        marker.get("state") == "done"


async def _recorded(db: AsyncDatabase, version: str | None, kinds: Sequence[str] | None
                    ) -> dict[tuple[str, str], tuple[str, int]]:
    """``(type, id) -> (digest, version)`` of what seeding stored: the records of content
    ``version`` win over older ones (which remain only while a newer version is stored)."""
    query = {} if kinds is None else {"type": {"$in": list(kinds)}}
    recorded: dict[tuple[str, str], tuple[str, int]] = {}
    async for record in db[RECORDS].find(query).sort([("recorded", 1)]):
        current = record["version"] == version
        for rid, digest, vid in record["resources"]:
            key = (record["type"], rid)
            if current or key not in recorded:
                recorded[key] = (digest, vid)
    return recorded


async def shipped_versions(db: AsyncDatabase, kinds: Sequence[str]) -> dict[tuple[str, str], int]:
    """``(type, id) -> version`` of each shipped resource as seeding stored it: a stored
    resource of another version was written by a client."""
    marker = await db[STATE].find_one({"_id": MARKER}, {"version": 1})
    if marker is None:
        return {}
    recorded = await _recorded(db, marker["version"], kinds)
    return {key: vid for key, (_digest, vid) in recorded.items()}
