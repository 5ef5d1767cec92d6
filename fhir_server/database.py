"""The MongoDB connection: PyMongo's async client, nothing specific to one server.

What is stored, and how, is the storage layer's business (:mod:`fhir_server.storage`).
"""

from __future__ import annotations

from datetime import UTC

from pymongo import AsyncMongoClient

from . import wait_for

__all__ = ["connect"]

# Every process that talks to MongoDB imports this module first (server, commands, tests).
wait_for.install()


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
