"""Storage: the only code that touches MongoDB collections.

Every read of resources takes the caller's :class:`~fhir_server.access.AccessPolicy`
(see :mod:`.resources` and :mod:`.queries`); the other stores keep the server's own
state (binary content, the audit chain, what consent decisions read).
``tests/test_layers.py`` fails when a module outside this package touches a collection.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from .audit_chain import AuditTrail
from .auth_storage import AuthStorage
from .binary import BinaryStore
from .consent_data import ConsentData
from .documents import ensure_base_indexes
from .hl7_feed import Hl7Feed
from .queries import Found, Queries
from .reindex_jobs import ReindexJobs
from .resources import HistoryPage, Indexer, Resources, StoredResource

__all__ = ["Storage", "Resources", "Queries", "Found", "StoredResource", "HistoryPage",
           "BinaryStore", "AuditTrail", "ConsentData", "AuthStorage"]


@dataclass
class Storage:
    resources: Resources
    queries: Queries
    binary: BinaryStore
    audit: AuditTrail
    consents: ConsentData
    reindex: ReindexJobs
    hl7_feed: Hl7Feed
    auth: AuthStorage

    @classmethod
    def open(cls, db: AsyncDatabase, indexer: Indexer, base: str) -> Storage:
        resources = Resources(db, indexer)
        return cls(resources, Queries(db), BinaryStore(db), AuditTrail(db, indexer),
                   ConsentData(db, base), ReindexJobs(db), Hl7Feed(db, resources),
                   AuthStorage.open(db))

    async def ensure_indexes(self) -> None:
        await ensure_base_indexes(self.resources._db)
        await self.audit.ensure_indexes()
        await self.consents.ensure_indexes()
