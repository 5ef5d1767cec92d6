"""The validator of a running server: shipped definitions and terminology, plus what is
stored in MongoDB (implementation guides, user-created conformance resources)."""

from __future__ import annotations

from typing import Any

from profiles.registry import DefinitionRegistry, shipped_definitions
from profiles.validator import Validator
from terminology import LocalTerminology, shipped_terminology
from terminology.local import shipped_resources

from .storage import Storage

__all__ = ["build_validator", "shipped_content"]


def shipped_content() -> list[dict[str, Any]]:
    """Every conformance resource stored on first start: the shipped terminology and the
    shipped profiles."""
    return [*shipped_resources(), *shipped_definitions()]


async def build_validator(storage: Storage) -> Validator:
    """A validator whose registry and terminology are the shipped ones in memory (never
    read from the database, so validation does not wait for the shipped content to be
    stored there) plus the conformance resources clients stored."""
    terminology = LocalTerminology(base=shipped_terminology())
    registry = DefinitionRegistry()
    store = storage.conformance(registry, terminology)
    await store.refresh(force=True)
    return Validator(terminology, registry, store=store)
