"""The validator of a running server: shipped definitions and terminology, plus what is
stored in MongoDB (implementation guides, user-created conformance resources)."""

from __future__ import annotations

from typing import Any

from profiles.registry import DefinitionRegistry, shipped_definitions
from profiles.validator import Validator
from terminology import LocalTerminology, shipped_terminology
from terminology.local import shipped_resources

from .storage import Indexer, Storage
from .storage.conformance_seed import seeding_enabled

__all__ = ["build_validator", "shipped_content"]


def shipped_content() -> list[dict[str, Any]]:
    """Every conformance resource stored on first start: the shipped terminology and the
    shipped profiles."""
    return [*shipped_resources(), *shipped_definitions()]


async def build_validator(storage: Storage, extra: list[dict[str, Any]] | None = None,
                          shipped_indexer: Indexer | None = None) -> Validator:
    """A validator whose registry and terminology include the stored conformance
    resources. First stores the shipped content and ``extra`` (the server's own
    conformance resources, e.g. OperationDefinitions), with the index fields of
    ``shipped_indexer``, or waits for the process that does: the server is ready only when
    it is stored."""
    if seeding_enabled():
        await storage.seed_shipped([*shipped_content(), *(extra or [])], shipped_indexer)
    terminology = LocalTerminology(base=shipped_terminology())
    registry = DefinitionRegistry()
    store = storage.conformance(registry, terminology)
    await store.refresh(force=True)
    return Validator(terminology, registry, store=store)
