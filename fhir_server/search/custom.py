"""Custom SearchParameters in force, shared by every server process through MongoDB.

``$reindex`` publishes the SearchParameter resources stored on the server into one shared
document (:mod:`fhir_server.storage.search_registry`, with a generation number); each
process reloads its :class:`Registry` when it sees a newer generation (checked at most
every few seconds).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ..errors import FhirError
from ..json_io import from_bson, to_bson
from ..storage.search_registry import SearchRegistryDocument
from .definitions import Registry, SearchParameter, parameter_from_resource

__all__ = ["RegistryStore"]

log = logging.getLogger(__name__)
_CHECK_SECONDS = 5.0


def _definitions(resources: list[dict[str, Any]]) -> tuple[SearchParameter, ...]:
    found = []
    for resource in resources:
        try:
            found.append(parameter_from_resource(resource, custom=True))
        except FhirError as error:
            log.warning("custom SearchParameter %s ignored: %s", resource.get("id"), error)
    return tuple(found)


class RegistryStore:
    def __init__(self, shared: SearchRegistryDocument) -> None:
        self.shared = shared
        self.registry = Registry()
        self.generation = 0
        self._checked = float("-inf")

    async def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < _CHECK_SECONDS:
            return
        self._checked = now
        doc = await self.shared.current()
        if doc is None or doc["generation"] == self.generation:
            return
        self._load(doc)

    def _load(self, doc: dict[str, Any]) -> None:
        resources = [from_bson(r) for r in doc.get("parameters", [])]
        self.registry = Registry(_definitions(resources))
        self.generation = doc["generation"]

    async def publish(self, resources: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        """Put these SearchParameter resources in force; (accepted, rejected with reasons)."""
        candidates: list[tuple[dict[str, Any], SearchParameter]] = []
        rejected: list[str] = []
        for resource in resources:
            try:
                candidates.append((resource, parameter_from_resource(resource, custom=True)))
            except FhirError as error:
                rejected.append(f"SearchParameter/{resource.get('id')}: {error.message}")
        registry = Registry(tuple(d for _, d in candidates))
        accepted: list[dict[str, Any]] = []
        for resource, definition in candidates:
            try:
                registry.check(definition)
            except FhirError as error:
                rejected.append(f"SearchParameter/{resource.get('id')}: {error.message}")
                continue
            accepted.append(resource)
        doc = await self.shared.publish(to_bson(accepted))
        self._load(doc)
        return [f"SearchParameter/{r.get('id')}" for r in accepted], rejected
