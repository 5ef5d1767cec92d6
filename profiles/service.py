"""The validator of a running server: shipped definitions and terminology, plus what is
stored in MongoDB (implementation guides, user-created conformance resources)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from terminology import LocalTerminology, shipped_terminology
from terminology.seed import seed_shipped, seeding_enabled

from .registry import DefinitionRegistry
from .stored import ConformanceStore
from .validator import Validator

__all__ = ["build_validator"]

log = logging.getLogger(__name__)
_background: set[asyncio.Task[Any]] = set()


async def build_validator(db: AsyncDatabase, repository: Any) -> Validator:
    """A validator whose registry and terminology include the stored conformance
    resources (loaded now), seeding the shipped terminology in the background on first
    start (``repository.update`` stores each resource)."""
    terminology = LocalTerminology(base=shipped_terminology())
    registry = DefinitionRegistry()
    store = ConformanceStore(db, registry, terminology)
    await store.ensure_indexes()
    await store.refresh(force=True)
    if seeding_enabled():
        task = asyncio.get_running_loop().create_task(_seed(db, repository))
        _background.add(task)
        task.add_done_callback(_background.discard)
    return Validator(terminology, registry, store=store)


async def _seed(db: AsyncDatabase, repository: Any) -> None:
    try:
        await seed_shipped(db, lambda resource, rid: repository.update(resource, rid))
    except Exception:  # noqa: BLE001 - seeding is retried on the next start
        log.exception("Storing the shipped terminology failed")
