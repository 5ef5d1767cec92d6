"""The MongoDB connection: PyMongo's async client, nothing specific to one server.

Collections:

* one per resource type (``Patient``, ``Observation``, ...): the current version of every
  live resource, ``{_id, vid, lastUpdated, resource, search}``; deleted resources leave
* ``history``: every version ever written (deletes as tombstones), keyed ``Type/id/vid``
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

__all__ = ["connect", "ensure_base_indexes", "HISTORY"]

HISTORY = "history"


def connect(uri: str) -> AsyncMongoClient:
    """A client whose acknowledged writes are journaled and majority-committed."""
    return AsyncMongoClient(
        uri,
        w="majority",
        journal=True,
        readConcernLevel="majority",
        tz_aware=True,
        tzinfo=UTC,
        uuidRepresentation="standard",
        appname="fhir-server",
    )


def write_options() -> dict[str, Any]:
    return {
        "read_concern": ReadConcern("snapshot"),
        "write_concern": WriteConcern("majority", j=True),
    }


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
