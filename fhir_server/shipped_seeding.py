"""The shipped conformance content of a running server: stored in the background, and
the gate that holds the requests needing it until it is (issue 13).

The server answers as soon as it has started. :meth:`ShippedSeeding.running` (part of the
app's lifespan) stores the content with :func:`fhir_server.storage.conformance_seed.seed_shipped`
under its lease (another process may be the one storing it; a failure is retried), and
:attr:`ShippedSeeding.gate` (:mod:`fhir_server.interactions.shipped_gate`) lets the
requests on shipped types through once the database says the content is stored.
``FHIR_TERMINOLOGY_SEED=off``: nothing is stored, nothing waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from terminology.local import shipped_resources

from .interactions.shipped_gate import OPEN, ShippedGate
from .memory import release_free_memory
from .storage import Indexer, Storage
from .storage.conformance_seed import ShippedContent, seeding_enabled
from .storage.conformance_store import CLOCK_SKEW, ConformanceStore

__all__ = ["ShippedSeeding", "STOP_SECONDS"]

STOP_SECONDS = 10.0  # a stop waits this long for the batch being stored to end
log = logging.getLogger(__name__)


class ShippedSeeding:
    """The shipped content (``resources``, stored with ``indexer``'s index fields) and
    its gate; ``store`` (the validator's conformance store) looks again once it is stored,
    so that its checkpoint, not the next start, reads past the thousands of versions."""

    def __init__(self, storage: Storage, resources: list[dict[str, Any]],
                 indexer: Indexer | None, store: ConformanceStore | None = None) -> None:
        self.storage = storage
        self.indexer = indexer
        self.store = store
        self.content = ShippedContent(resources) if seeding_enabled() else None
        if self.content is None:
            self.gate = OPEN
        else:
            version = self.content.version
            self.gate = ShippedGate({s.kind for s in self.content.resources},
                                    lambda: storage.shipped_content_stored(version))

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Store the content in the background while the server runs, unless it is
        stored already; a stop cancels it (the next start continues after the batches
        committed)."""
        if self.content is None or await self.gate.is_open():
            if self.content is not None:
                log.info("Shipped content stored already (version %s)", self.content.version)
                self._release()
            yield
            return
        task = asyncio.create_task(self._store(self.content), name="shipped-content")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.wait([task], timeout=STOP_SECONDS)

    async def _store(self, content: ShippedContent) -> None:
        await self.storage.seed_shipped(content, self.indexer)
        if self.store is not None:
            # once the last shipped version is older than the store's window, so that its
            # checkpoint (where the next start looks from) is past all of them
            await asyncio.sleep(CLOCK_SKEW.total_seconds())
            await self.store.refresh()
        self._release()

    def _release(self) -> None:
        """Once the content is stored: give back what only storing it needed (the content
        as stored, with its narratives; the versions prepared: about 100 MB of heap).
        Validation keeps its own copies (:func:`terminology.local.shipped_terminology`)."""
        self.content = None
        shipped_resources.cache_clear()
        release_free_memory()
