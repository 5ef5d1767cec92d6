"""Installing a FHIR package: its conformance resources stored as resources in MongoDB.

Each StructureDefinition, ValueSet, CodeSystem, ConceptMap and SearchParameter is stored
like any resource (versioned, searchable); one already stored with the same canonical
URL is updated in place, otherwise the package's id is used (prefixed with the package
name when taken by another resource). A StructureDefinition without a snapshot is stored
with one generated against its base. The package is recorded by the store. Servers pick
the content up like any stored conformance resource; SearchParameters take effect for
existing data after ``$reindex``.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any, Protocol

from .packages import FhirPackage
from .registry import DefinitionRegistry

__all__ = ["install_package", "PackageStore"]

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


class PackageStore(Protocol):
    """Where installed packages go (the server's storage layer implements it)."""

    async def update(self, resource: dict[str, Any], rid: str) -> Any:
        """Store a resource with its id (update or create)."""

    async def id_with_url(self, resource_type: str, url: str) -> str | None:
        """The id of the stored resource of that type with that canonical URL."""

    async def exists(self, resource_type: str, rid: str) -> bool: ...

    async def record_package(self, label: str, record: dict[str, Any]) -> None:
        """Remember an installed package (name, version, when, what it stored)."""


async def install_package(store: PackageStore, package: FhirPackage,
                          registry: DefinitionRegistry) -> Counter[str]:
    """Store ``package``'s resources; the count stored per type. ``registry`` (the
    server's definitions) resolves base definitions for snapshots."""
    with_snapshots = _with_snapshots(package, registry)
    stored: Counter[str] = Counter()
    written = []
    for resource in with_snapshots:
        kind = resource["resourceType"]
        rid = await _id_for(store, package, resource)
        await store.update({**resource, "id": rid}, rid)
        stored[kind] += 1
        written.append(f"{kind}/{rid}")
    await store.record_package(package.label, {
        "name": package.name, "version": package.version, "installed": datetime.now(UTC),
        "resources": written})
    return stored


def _with_snapshots(package: FhirPackage, registry: DefinitionRegistry
                    ) -> list[dict[str, Any]]:
    definitions = [r for r in package.resources if r["resourceType"] == "StructureDefinition"]
    layered = DefinitionRegistry([*registry.stored_definitions(), *definitions])
    result = []
    for resource in package.resources:
        if resource["resourceType"] == "StructureDefinition" and "snapshot" not in resource \
                and "url" in resource:
            generated = layered.get(resource["url"])
            if generated is not None:
                resource = generated
        result.append(resource)
    return result


async def _id_for(store: PackageStore, package: FhirPackage, resource: dict[str, Any]
                  ) -> str:
    kind, url = resource["resourceType"], resource.get("url")
    if isinstance(url, str):
        existing = await store.id_with_url(kind, url)
        if existing is not None:
            return existing
    rid = str(resource.get("id", ""))
    if _ID.fullmatch(rid) and not await store.exists(kind, rid):
        return rid
    prefixed = re.sub(r"[^A-Za-z0-9\-.]", "-", f"{package.name}-{rid}")[-64:].lstrip("-.")
    return prefixed or "resource"
