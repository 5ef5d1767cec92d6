"""Conformance resources stored in MongoDB, mirrored into the validator's memory.

StructureDefinitions go into the :class:`~profiles.registry.DefinitionRegistry`'s stored
layer, CodeSystems, ValueSets and ConceptMaps into the stored layer of the
:class:`~terminology.LocalTerminology`. MongoDB is the truth shared by every server
process: a cheap fingerprint (count and latest ``lastUpdated`` per collection) tells when
to reload. It is checked at startup, before every terminology operation and
``$validate``, after ``fhir-server ig install``, and at most every ``interval`` seconds
(``FHIR_CONFORMANCE_REFRESH_SECONDS``, default 5) in the background of validation on
writes. The shipped content seeded into MongoDB (tagged ``shipped``) is not reloaded:
it is in memory already.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from terminology import LocalTerminology
from terminology.seed import SHIPPED_TAG

from .registry import DefinitionRegistry

__all__ = ["ConformanceStore", "CONFORMANCE_TYPES"]

CONFORMANCE_TYPES = ("StructureDefinition", "ValueSet", "CodeSystem", "ConceptMap")
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
        self._fingerprint: tuple[Any, ...] | None = None
        self._checked = 0.0
        self._pending: asyncio.Task[bool] | None = None

    async def fingerprint(self) -> tuple[Any, ...]:
        parts: list[Any] = []
        for kind in CONFORMANCE_TYPES:
            collection = self.db[kind]
            latest = await collection.find_one({}, {"lastUpdated": 1},
                                               sort=[("lastUpdated", DESCENDING)])
            parts += [await collection.count_documents({}),
                      None if latest is None else latest.get("lastUpdated")]
        return tuple(parts)

    async def refresh(self, force: bool = False) -> bool:
        """Reload when the stored resources changed; True when something was reloaded."""
        self._checked = time.monotonic()
        fingerprint = await self.fingerprint()
        if fingerprint == self._fingerprint and not force:
            return False
        loaded: dict[str, list[dict[str, Any]]] = {}
        for kind in CONFORMANCE_TYPES:
            cursor = self.db[kind].find(_NOT_SHIPPED, {"resource": 1})
            loaded[kind] = [doc["resource"] async for doc in cursor]
        self.registry.replace_stored(loaded["StructureDefinition"])
        self.terminology.replace(loaded["ValueSet"] + loaded["CodeSystem"]
                                 + loaded["ConceptMap"])
        self._fingerprint = fingerprint
        log.info("Conformance resources reloaded: %s",
                 ", ".join(f"{len(v)} {k}" for k, v in loaded.items()))
        return True

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
