"""Installing a FHIR package: its conformance resources stored as resources in MongoDB.

Each StructureDefinition, ValueSet, CodeSystem, ConceptMap and SearchParameter is stored
like any resource (versioned, searchable); one already stored with the same canonical
URL is updated in place, otherwise the package's id is used (prefixed with the package
name when taken by another resource). A StructureDefinition without a snapshot is stored
with one generated against its base. The package is recorded in ``ig_packages``.
Servers pick the content up through :class:`~profiles.stored.ConformanceStore`;
SearchParameters take effect for existing data after ``$reindex``.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from .packages import FhirPackage
from .registry import DefinitionRegistry

__all__ = ["install_package", "INSTALLED_PACKAGES"]

INSTALLED_PACKAGES = "ig_packages"
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


async def install_package(db: AsyncDatabase, repository: Any, package: FhirPackage,
                          registry: DefinitionRegistry) -> Counter[str]:
    """Store ``package``'s resources with ``repository``; the count stored per type.
    ``registry`` (the server's definitions) resolves base definitions for snapshots."""
    with_snapshots = _with_snapshots(package, registry)
    stored: Counter[str] = Counter()
    written = []
    for resource in with_snapshots:
        kind = resource["resourceType"]
        rid = await _id_for(db, package, resource)
        await repository.update({**resource, "id": rid}, rid)
        stored[kind] += 1
        written.append(f"{kind}/{rid}")
    await db[INSTALLED_PACKAGES].replace_one(
        {"_id": package.label},
        {"_id": package.label, "name": package.name, "version": package.version,
         "installed": datetime.now(UTC), "resources": written}, upsert=True)
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


async def _id_for(db: AsyncDatabase, package: FhirPackage, resource: dict[str, Any]) -> str:
    kind, url = resource["resourceType"], resource.get("url")
    if isinstance(url, str):
        existing = await db[kind].find_one({"resource.url": url}, {"_id": 1})
        if existing is not None:
            return str(existing["_id"])
    rid = str(resource.get("id", ""))
    if _ID.fullmatch(rid) and await db[kind].find_one({"_id": rid}, {"_id": 1}) is None:
        return rid
    prefixed = re.sub(r"[^A-Za-z0-9\-.]", "-", f"{package.name}-{rid}")[-64:].lstrip("-.")
    return prefixed or "resource"
