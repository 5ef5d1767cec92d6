"""Conformance resources stored in MongoDB, mirrored into the validator's memory.

StructureDefinitions go into the :class:`~profiles.registry.DefinitionRegistry`'s stored
layer, CodeSystems, ValueSets and ConceptMaps into the stored layer of the
:class:`~terminology.LocalTerminology`. MongoDB is the truth shared by every server
process: the latest version of any conformance resource in ``history`` (one indexed
query) tells when to look; then only documents written since the last look are read
(and the ids of the loaded ones checked for deletes). It is checked at startup, before
every terminology operation and ``$validate``, and at most every ``interval`` seconds
(``FHIR_CONFORMANCE_REFRESH_SECONDS``, default 5) in the background of validation on
writes. The shipped content seeded into MongoDB (tagged ``shipped``) is not reloaded:
it is in memory already.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from fhir_server.database import HISTORY
from terminology import LocalTerminology
from terminology.seed import SHIPPED_TAG

from .registry import DefinitionRegistry

__all__ = ["ConformanceStore", "CONFORMANCE_TYPES"]

CONFORMANCE_TYPES = ("StructureDefinition", "ValueSet", "CodeSystem", "ConceptMap")
_CLOCK_SKEW = timedelta(seconds=5)  # a write committed late carries its earlier start time
_SHIPPED = {"resource.meta.tag": {"$elemMatch": SHIPPED_TAG}}
_NOT_SHIPPED = {"resource.meta.tag": {"$not": {"$elemMatch": SHIPPED_TAG}}}

log = logging.getLogger(__name__)


class ConformanceStore:
    def __init__(self, db: AsyncDatabase, registry: DefinitionRegistry,
                 terminology: LocalTerminology, interval: float | None = None) -> None:
        self.db = db
        self.registry = registry
        self.terminology = terminology
        self.interval = interval if interval is not None else float(
            os.environ.get("FHIR_CONFORMANCE_REFRESH_SECONDS", "5"))
        self._latest: tuple[Any, Any] | None = None
        self._loaded: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in CONFORMANCE_TYPES}
        self._checked = 0.0
        self._pending: asyncio.Task[bool] | None = None

    async def ensure_indexes(self) -> None:
        for kind in CONFORMANCE_TYPES:
            await self.db[kind].create_index([("lastUpdated", DESCENDING)],
                                             name="conformance_lastUpdated")

    async def _latest_write(self) -> tuple[Any, Any]:
        """The time and key of the latest version (tombstones included) of any
        conformance resource, from ``history``: the fingerprint, in one indexed query."""
        latest = await self.db[HISTORY].find_one(
            {"type": {"$in": list(CONFORMANCE_TYPES)}}, {"lastUpdated": 1},
            sort=[("lastUpdated", DESCENDING), ("_id", DESCENDING)])
        return (None, None) if latest is None else (latest["lastUpdated"], latest["_id"])

    async def refresh(self, force: bool = False) -> bool:
        """Reload what changed; True when the stored (non-shipped) content changed."""
        self._checked = time.monotonic()
        latest = await self._latest_write()
        if latest == self._latest and not force:
            return False
        since = None if force or self._latest is None else self._latest[0]
        changed = False
        for kind in CONFORMANCE_TYPES:
            changed |= await self._reload(kind, since)
        self._latest = latest
        if changed:
            self.registry.replace_stored(self._loaded["StructureDefinition"].values())
            self.terminology.replace([r for kind in CONFORMANCE_TYPES[1:]
                                      for r in self._loaded[kind].values()])
            log.info("Conformance resources reloaded: %s", ", ".join(
                f"{len(v)} {k}" for k, v in self._loaded.items()))
        return changed

    async def _reload(self, kind: str, since: Any) -> bool:
        """Apply the documents written since ``since`` (everything when None) and the
        deletes; True when the non-shipped content changed. Shipped documents are skipped."""
        before = self._loaded[kind]
        loaded = {} if since is None else dict(before)
        window = {} if since is None else {"lastUpdated": {"$gte": since - _CLOCK_SKEW}}
        async for doc in self.db[kind].find({**window, **_NOT_SHIPPED}, {"resource": 1}):
            loaded[doc["_id"]] = doc["resource"]
        if since is not None:
            async for doc in self.db[kind].find({**window, **_SHIPPED}, {"_id": 1}):
                loaded.pop(doc["_id"], None)
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
