"""Storage: the only code that touches MongoDB collections.

Every read of resources takes the caller's :class:`~fhir_server.access.AccessPolicy`
(see :mod:`.resources` and :mod:`.queries`); the other stores keep the server's own
state (binary content, the audit chain, what consent decisions read).
``tests/test_layers.py`` fails when a module outside this package touches a collection.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from profiles.registry import DefinitionRegistry
from terminology import LocalTerminology

from ..identity import HealthIdConfig
from .audit_chain import AuditTrail
from .auth_storage import AuthStorage
from .binary import BinaryStore
from .compartment_members import CompartmentMembers
from .condition_locks import ConditionLocks
from .conformance_seed import SeedOutcome, ShippedContent, content_stored, keep_seeding
from .conformance_store import ConformanceStore
from .consent_data import ConsentData
from .documents import ensure_base_indexes
from .export_files import OutputStore
from .export_jobs import ExportTimings, JobStore
from .health_ids import HealthIdGuard
from .hl7_feed import Hl7Feed
from .identifier_claims import IdentifierClaims
from .load_progress import LoadProgress
from .packages import InstalledPackages
from .patient_review import PatientReview
from .queries import Found, Queries
from .reindex_jobs import ReindexJobs
from .resources import HistoryPage, Indexer, Put, Resources, StoredResource, Version
from .search_indexes import ensure_search_indexes
from .search_registry import SearchRegistryDocument
from .subscription_events import SubscriptionEvents
from .subscription_outbox import Outbox
from .subscription_state import SubscriptionStates
from .system_writer import SystemWriter

__all__ = ["Storage", "Resources", "Queries", "Found", "StoredResource", "HistoryPage",
           "Put", "Version",
           "SystemWriter",
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
    search_registry: SearchRegistryDocument
    load_progress: LoadProgress
    export_files: OutputStore
    packages: InstalledPackages
    outbox: Outbox
    subscriptions: SubscriptionStates
    subscription_events: SubscriptionEvents
    condition_locks: ConditionLocks
    compartment_members: CompartmentMembers
    patient_review: PatientReview
    _db: AsyncDatabase

    @classmethod
    def open(cls, db: AsyncDatabase, base: str, indexer: Indexer,
             health_id: HealthIdConfig | None = None) -> Storage:
        """The stores of one database; ``indexer`` gives the search index fields of a
        resource (written with it); ``health_id`` the deployment's health ID, which every
        Patient write checks and claims (:mod:`.health_ids`)."""
        resources = Resources(db, indexer)
        if health_id is not None and health_id.system:
            resources.guards.append(HealthIdGuard(health_id, IdentifierClaims(db)))
        return cls(resources, Queries(db), BinaryStore(db), AuditTrail(db, indexer),
                   ConsentData(db, base), ReindexJobs(db), Hl7Feed(db, resources),
                   AuthStorage.open(db), SearchRegistryDocument(db), LoadProgress(db),
                   OutputStore(db), InstalledPackages(db, resources), Outbox(db),
                   SubscriptionStates(db), SubscriptionEvents(db), ConditionLocks(db),
                   CompartmentMembers(db), PatientReview(db), db)

    async def seed_shipped(self, content: ShippedContent,
                           indexer: Indexer | None = None) -> SeedOutcome:
        """Store the shipped conformance content (:mod:`.conformance_seed`), its index
        fields from ``indexer`` (by default the repository's), retrying after a failure
        until it is stored (by this process or another)."""
        return await keep_seeding(self._db, SystemWriter(self.resources, indexer), content)

    async def shipped_content_stored(self, version: str) -> bool:
        """Whether shipped content ``version`` is stored (:mod:`.conformance_seed`)."""
        return await content_stored(self._db, version)

    def conformance(self, registry: DefinitionRegistry, terminology: LocalTerminology
                    ) -> ConformanceStore:
        """The stored conformance resources, mirrored into ``registry`` and
        ``terminology`` (:mod:`.conformance_store`)."""
        return ConformanceStore(self._db, registry, terminology)

    def export_jobs(self, timings: ExportTimings) -> JobStore:
        """Bulk export jobs, with the deployment's timings."""
        return JobStore(self._db, timings)

    async def ensure_indexes(self) -> None:
        await ensure_base_indexes(self._db)
        await ensure_search_indexes(self._db)
        await self.audit.ensure_indexes()
        await self.consents.ensure_indexes()
        await self.outbox.ensure_indexes()
        await self.subscriptions.ensure_indexes()
        await self.subscription_events.ensure_collection()
        await self.condition_locks.ensure_collections()
        await self.patient_review.ensure_indexes()
