"""Conformance resources stored in MongoDB, mirrored into the validator's memory.

StructureDefinitions go into the :class:`~profiles.registry.DefinitionRegistry`'s stored
layer, CodeSystems, ValueSets and ConceptMaps into the stored layer of the
:class:`~terminology.LocalTerminology`. MongoDB is the truth shared by every server
process: the versions of conformance resources in ``history`` written since the last look
(one indexed range read per type) tell when to look again; then only documents written
since the last look are read (and the ids of the loaded ones checked for deletes). A
start reads what the last look of any process recorded (``conformance_state``,
``conformance-store``: its time and the ids it had loaded) and what was written since,
not the thousands of shipped resources. It is checked at startup, before every
terminology operation and ``$validate``, and at most every ``interval`` seconds
(``FHIR_CONFORMANCE_REFRESH_SECONDS``, default 5) in the background of validation on
writes. The shipped content seeded into MongoDB (:mod:`.conformance_seed`) is not loaded
while it is the version seeding stored: it is in memory already. A client's version of a
shipped resource (any other version of it, tagged ``shipped`` or not) is loaded like any
stored resource.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from profiles.registry import DefinitionRegistry
from terminology import LocalTerminology

from .conformance_seed import STATE, shipped_versions
from .documents import HISTORY

__all__ = ["ConformanceStore", "CONFORMANCE_TYPES", "CLOCK_SKEW"]

CONFORMANCE_TYPES = ("StructureDefinition", "ValueSet", "CodeSystem", "ConceptMap")
CLOCK_SKEW = timedelta(seconds=5)  # a write committed late carries its earlier start time
_LAST_UPDATED = "conformance_lastUpdated"
_CHECKPOINT = "conformance-store"  # in conformance_seed.STATE
_CHECKPOINT_AGE = timedelta(seconds=60)  # a quiet look moves the checkpoint on after this

log = logging.getLogger(__name__)


class ConformanceStore:
    def __init__(self, db: AsyncDatabase, registry: DefinitionRegistry,
                 terminology: LocalTerminology, interval: float | None = None) -> None:
        self.db = db
        self.registry = registry
        self.terminology = terminology
        self.interval = interval if interval is not None else float(
            os.environ.get("FHIR_CONFORMANCE_REFRESH_SECONDS", "5"))
        self._since: datetime | None = None  # the last look, less the clock skew
        self._seen: set[str] = set()  # history keys of the versions it found
        self._loaded: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in CONFORMANCE_TYPES}
        self._checked = 0.0
        self._pending: asyncio.Task[bool] | None = None
        self._shipped: dict[tuple[str, str], int] = {}

    async def ensure_indexes(self) -> None:
        for kind in CONFORMANCE_TYPES:
            await self.db[kind].create_index([("lastUpdated", DESCENDING)],
                                             name=_LAST_UPDATED)

    async def _recent_versions(self, since: datetime) -> dict[str, datetime]:
        """History keys and times of the conformance versions (tombstones included)
        written at or after ``since`` less the clock skew: a range read per type on the
        ``(type, lastUpdated)`` index of ``history``, so no older version is read."""
        found: dict[str, datetime] = {}
        for kind in CONFORMANCE_TYPES:
            async for doc in self.db[HISTORY].find(
                    {"type": kind, "lastUpdated": {"$gte": since - CLOCK_SKEW}},
                    {"lastUpdated": 1}):
                found[doc["_id"]] = doc["lastUpdated"]
        return found

    async def refresh(self, force: bool = False) -> bool:
        """Reload what changed; True when the stored (non-shipped) content changed."""
        self._checked = time.monotonic()
        full = force or self._since is None
        checkpoint = None
        if full:
            await self.ensure_indexes()
            self._shipped = await shipped_versions(self.db, CONFORMANCE_TYPES)
            checkpoint = await self._checkpoint()
        since = checkpoint[0] if checkpoint else None if full else self._since
        now = datetime.now(UTC)
        look_from = since or now
        recent = await self._recent_versions(look_from)
        if not full and recent.keys() <= self._seen:
            if self._since is not None and now - self._since > _CHECKPOINT_AGE:
                self._since = now  # nothing new for a while: look from now on
                await self._save_checkpoint()
            return False
        if not full:
            self._shipped = await shipped_versions(self.db, CONFORMANCE_TYPES)
        changed = False
        for kind in CONFORMANCE_TYPES:
            start = self._loaded[kind] if not full else checkpoint[1][kind] if checkpoint else {}
            changed |= await self._reload(kind, since, start)
        self._seen = set(recent)
        # this look saw every version committed before ``now``; one committed later carries
        # a time after ``now - CLOCK_SKEW``, which the next window still covers
        self._since = max([now, *recent.values()])
        await self._save_checkpoint()
        if changed:
            self.registry.replace_stored(self._loaded["StructureDefinition"].values())
            self.terminology.replace([r for kind in CONFORMANCE_TYPES[1:]
                                      for r in self._loaded[kind].values()])
            log.info("Conformance resources reloaded: %s", ", ".join(
                f"{len(v)} {k}" for k, v in self._loaded.items()))
        return changed

    async def _checkpoint(self) -> tuple[datetime, dict[str, dict[str, Any]]] | None:
        """The last look a process recorded (its time, and the ids it had loaded), with
        those resources read again: a start needs only what was written since then,
        instead of reading every conformance resource (the shipped ones are thousands)."""
        recorded = await self.db[STATE].find_one({"_id": _CHECKPOINT})
        if recorded is None:
            return None
        start: dict[str, dict[str, Any]] = {}
        for kind in CONFORMANCE_TYPES:
            start[kind] = {}
            ids = recorded["ids"].get(kind, [])
            if ids:
                async for doc in self.db[kind].find({"_id": {"$in": ids}},
                                                    {"vid": 1, "resource": 1}):
                    if self._shipped.get((kind, doc["_id"])) != doc["vid"]:
                        start[kind][doc["_id"]] = doc["resource"]
        return recorded["since"], start

    async def _save_checkpoint(self) -> None:
        """Record this look, unless a process recorded a later one."""
        ids = {kind: list(loaded) for kind, loaded in self._loaded.items()}
        try:
            await self.db[STATE].update_one(
                {"_id": _CHECKPOINT, "since": {"$lte": self._since}},
                {"$set": {"since": self._since, "ids": ids}}, upsert=True)
        except DuplicateKeyError:
            pass

    async def _reload(self, kind: str, since: datetime | None,
                      start: dict[str, dict[str, Any]]) -> bool:
        """Apply to ``start`` the documents written since ``since`` (all of them when
        None) and the deletes; True when the non-shipped content changed. Documents that
        are still the version seeding stored are skipped (two indexed reads: versions,
        then resources)."""
        before = self._loaded[kind]
        loaded = dict(start)
        window = {} if since is None else {"lastUpdated": {"$gte": since - CLOCK_SKEW}}
        # no hint: SecantusDB picks _LAST_UPDATED itself, and a hint costs it 0.2 s a query
        changed_since = self.db[kind].find(window, {"vid": 1})
        wanted = []
        async for doc in changed_since:
            if self._shipped.get((kind, doc["_id"])) == doc["vid"]:
                loaded.pop(doc["_id"], None)
            else:
                wanted.append(doc["_id"])
        if wanted:
            async for doc in self.db[kind].find({"_id": {"$in": wanted}}, {"resource": 1}):
                loaded[doc["_id"]] = doc["resource"]
        if since is not None and loaded:
            present = {doc["_id"] async for doc in self.db[kind].find(
                {"_id": {"$in": list(loaded)}}, {"_id": 1})}
            loaded = {rid: r for rid, r in loaded.items() if rid in present}
        self._loaded[kind] = loaded
        return loaded != before

    def refresh_soon(self) -> None:
        """From synchronous code in the event loop: start a background refresh when the
        last check is older than ``interval``."""
        if time.monotonic() - self._checked < self.interval:
            return
        if self._pending is not None and not self._pending.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._checked = time.monotonic()
        self._pending = loop.create_task(self._quiet_refresh())

    async def _quiet_refresh(self) -> bool:
        try:
            return await self.refresh()
        except Exception:  # noqa: BLE001 - a background refresh must not crash the loop
            log.exception("Refreshing the conformance resources failed")
            return False
