"""Loading the shipped terminology into MongoDB as resources, once per database.

On first start the server stores every shipped CodeSystem, ValueSet and ConceptMap (see
:func:`terminology.local.shipped_resources`) as a resource with its own id, tagged
``shipped`` in ``meta.tag``, so that they can be read, searched and used by the
terminology operations like any other. A marker document in ``conformance_state``
(``_id: "shipped-terminology"``, with the content version) makes it happen once across
server processes; a newer shipped version is loaded over the old one. Controlled by
``FHIR_TERMINOLOGY_SEED`` (``on``, the default, or ``off``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from .local import shipped_resources

__all__ = ["SHIPPED_TAG", "SHIPPED_VERSION", "seed_shipped", "seeding_enabled"]

SHIPPED_TAG = {"system": "https://mch-fhir.org/fhir/CodeSystem/content-origin",
               "code": "shipped"}
SHIPPED_VERSION = "2026-11-22"
STATE = "conformance_state"
_MARKER = "shipped-terminology"
_STALE_CLAIM = timedelta(minutes=10)

log = logging.getLogger(__name__)

Store = Callable[[dict[str, Any], str], Awaitable[Any]]


def seeding_enabled() -> bool:
    return os.environ.get("FHIR_TERMINOLOGY_SEED", "on").lower() not in ("off", "0", "false")


async def _claim(db: AsyncDatabase) -> bool:
    """Whether this process should load the content now (no one did, or an older version,
    or a claim abandoned for ten minutes)."""
    now = datetime.now(UTC)
    state = db[STATE]
    try:
        await state.insert_one({"_id": _MARKER, "version": SHIPPED_VERSION,
                                "state": "loading", "claimed": now})
        return True
    except DuplicateKeyError:
        pass
    taken = await state.find_one_and_update(
        {"_id": _MARKER, "$or": [{"version": {"$ne": SHIPPED_VERSION}},
                                 {"state": "loading", "claimed": {"$lt": now - _STALE_CLAIM}}]},
        {"$set": {"version": SHIPPED_VERSION, "state": "loading", "claimed": now}})
    return taken is not None


async def seed_shipped(db: AsyncDatabase, store: Store,
                       resources: Iterable[dict[str, Any]] | None = None) -> int:
    """Store the shipped content (or ``resources``) with ``store(resource, id)`` (an
    update-as-create) unless it is there already; the number of resources stored."""
    if not await _claim(db):
        return 0
    count = 0
    for resource in shipped_resources() if resources is None else resources:
        meta = resource.get("meta", {})
        tags = [t for t in meta.get("tag", []) if t != SHIPPED_TAG] + [SHIPPED_TAG]
        await store({**resource, "meta": {**meta, "tag": tags}}, resource["id"])
        count += 1
    await db[STATE].update_one({"_id": _MARKER}, {"$set": {"state": "done"}})
    log.info("Stored %d shipped CodeSystems, ValueSets and ConceptMaps", count)
    return count
