"""The validator of a running server: shipped definitions and terminology, plus what is
stored in MongoDB (implementation guides, user-created conformance resources)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from terminology import LocalTerminology, shipped_terminology
from terminology.local import shipped_resources
from terminology.seed import seed_shipped, seeding_enabled

from .registry import DefinitionRegistry, shipped_definitions
from .stored import ConformanceStore
from .validator import Validator

__all__ = ["build_validator", "shipped_content"]


def shipped_content() -> list[dict[str, Any]]:
    """Every conformance resource stored on first start: the shipped terminology and the
    shipped profiles."""
    return [*shipped_resources(), *shipped_definitions()]


async def build_validator(db: AsyncDatabase, repository: Any,
                          extra: list[dict[str, Any]] | None = None) -> Validator:
    """A validator whose registry and terminology include the stored conformance
    resources. First stores the shipped content and ``extra`` (the server's own
    conformance resources, e.g. OperationDefinitions; ``repository`` writes them), or
    waits for the process that does: the server is ready only when it is stored."""
    if seeding_enabled():
        await seed_shipped(db, repository, [*shipped_content(), *(extra or [])])
    terminology = LocalTerminology(base=shipped_terminology())
    registry = DefinitionRegistry()
    store = ConformanceStore(db, registry, terminology)
    await store.refresh(force=True)
    return Validator(terminology, registry, store=store)
