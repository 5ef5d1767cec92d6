"""The registry of the authorization server: clients and users, as documents.

* ``auth_clients``: ``{_id: client_id, kind, secretHash, jwks, jwksUrl, redirectUris,
  scope, pkce, name, resourceServer, created}``
* ``auth_users``: ``{_id: username, passwordHash, fhirUser, created}``

:mod:`fhir_server.auth.registry` gives them meaning (validation, hashing).
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

__all__ = ["RegistryRecords"]


class RegistryRecords:
    def __init__(self, db: AsyncDatabase) -> None:
        self._clients = db["auth_clients"]
        self._users = db["auth_users"]

    async def add_client(self, doc: dict[str, Any]) -> bool:
        """Store a new client; False when its id is taken."""
        try:
            await self._clients.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def client(self, client_id: str) -> dict[str, Any] | None:
        return await self._clients.find_one({"_id": client_id})

    async def clients(self) -> list[dict[str, Any]]:
        return await self._clients.find().sort("_id").to_list()

    async def change_client(self, client_id: str, changes: dict[str, Any]) -> bool:
        """Set fields of a client; False when there is no such client."""
        result = await self._clients.update_one({"_id": client_id}, {"$set": changes})
        return result.matched_count == 1

    async def add_redirect_uri(self, client_id: str, redirect_uri: str) -> bool:
        """Add a redirect URI to a client's list (atomic, a no-op when listed); False when
        there is no such client."""
        result = await self._clients.update_one({"_id": client_id},
                                                {"$addToSet": {"redirectUris": redirect_uri}})
        return result.matched_count == 1

    async def remove_client(self, client_id: str) -> bool:
        return (await self._clients.delete_one({"_id": client_id})).deleted_count == 1

    async def add_user(self, doc: dict[str, Any]) -> bool:
        """Store a new user; False when the username is taken."""
        try:
            await self._users.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def user(self, username: str) -> dict[str, Any] | None:
        return await self._users.find_one({"_id": username})
