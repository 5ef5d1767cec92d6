"""The shape of stored documents and what every write runs with.

Collections:

* one per resource type (``Patient``, ``Observation``, ...): the current version of every
  live resource, ``{_id, vid, lastUpdated, resource, search}``; deleted resources leave
* ``history``: every version ever written (deletes as tombstones), keyed
  ``Type/id/_history/<vid>``, ``{type, id, vid, lastUpdated, method, created, resource,
  search, supersededAt}``
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

__all__ = ["HISTORY", "write_options", "ensure_base_indexes", "for_history"]

HISTORY = "history"


def write_options() -> dict[str, Any]:
    return {
        "read_concern": ReadConcern("snapshot"),
        "write_concern": WriteConcern("majority", j=True),
    }


def for_history(condition: Any) -> Any:
    """A condition on current documents as the same condition on history documents
    (which keep the resource id in ``id``: ``_id`` is the version's key)."""
    if isinstance(condition, dict):
        return {("id" if key == "_id" else key): for_history(value)
                for key, value in condition.items()}
    if isinstance(condition, list):
        return [for_history(item) for item in condition]
    return condition


async def ensure_base_indexes(db: AsyncDatabase) -> None:
    history = db[HISTORY]
    await history.create_index(
        [("type", ASCENDING), ("id", ASCENDING), ("vid", DESCENDING)],
        unique=True,
        name="type_id_vid",
    )
    await history.create_index([("lastUpdated", DESCENDING), ("_id", DESCENDING)], name="lu")
    await history.create_index(
        [("type", ASCENDING), ("lastUpdated", DESCENDING), ("_id", DESCENDING)], name="type_lu"
    )
