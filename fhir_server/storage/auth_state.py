"""What the authorization pages keep between requests (RFC 6749 section 4.1; SMART App
Launch 2.x "App Launch"), each document expiring at ``expiresAt`` (TTL index):

* ``auth_pending``: authorization requests between the authorize call and the decision
* ``auth_sessions``: signed-in users of the authorization pages
* ``auth_codes``: authorization codes (single use; ``used`` tells a reuse)
* ``auth_launch``: EHR launch contexts behind the opaque ``launch`` parameter
* ``auth_login_failures``: failed sign-ins per username (``_id``: the name in lower case)

Documents are keyed by the SHA-256 digest of the secret handed out (computed by
:mod:`fhir_server.auth.store`): this layer never sees a secret. Readers compare
``expiresAt`` with the clock too, since TTL deletion runs only once a minute.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from .. import clock

__all__ = ["AuthState", "live"]

_EXPIRING = ("auth_pending", "auth_sessions", "auth_codes", "auth_launch",
             "auth_login_failures")


def live(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """The document, unless it has expired (the TTL monitor may not have run yet)."""
    return doc if doc is not None and doc["expiresAt"] > clock.now() else None


class AuthState:
    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db
        self._pending = db["auth_pending"]
        self._sessions = db["auth_sessions"]
        self._codes = db["auth_codes"]
        self._launches = db["auth_launch"]
        self._failures = db["auth_login_failures"]

    async def ensure_indexes(self) -> None:
        for name in _EXPIRING:
            await self._db[name].create_index("expiresAt", expireAfterSeconds=0, name="ttl")

    # -- pending authorization requests ------------------------------------------------
    async def add_pending(self, key: str, request: dict[str, Any], csrf: str,
                          expires_at: datetime) -> None:
        await self._pending.insert_one({"_id": key, "request": request, "csrf": csrf,
                                        "session": None, "expiresAt": expires_at})

    async def pending(self, key: str) -> dict[str, Any] | None:
        return live(await self._pending.find_one({"_id": key}))

    async def bind_pending(self, key: str, session_key: str) -> None:
        await self._pending.update_one({"_id": key}, {"$set": {"session": session_key}})

    async def take_pending(self, key: str) -> dict[str, Any] | None:
        """Remove a pending request and return it (a decision is made once)."""
        return live(await self._pending.find_one_and_delete({"_id": key}))

    # -- sign-in sessions ----------------------------------------------------------------
    async def add_session(self, key: str, username: str, fhir_user: str,
                          expires_at: datetime) -> None:
        await self._sessions.insert_one({"_id": key, "username": username,
                                         "fhirUser": fhir_user, "expiresAt": expires_at})

    async def session(self, key: str) -> dict[str, Any] | None:
        return live(await self._sessions.find_one({"_id": key}))

    # -- failed sign-ins -----------------------------------------------------------------
    async def failures(self, username: str) -> int:
        doc = live(await self._failures.find_one({"_id": username.lower()}))
        return 0 if doc is None else int(doc["failures"])

    async def count_failure(self, username: str, window_ends: datetime) -> None:
        """One more failure; the count is forgotten at ``window_ends`` of the first."""
        await self._failures.update_one(
            {"_id": username.lower()},
            {"$inc": {"failures": 1}, "$setOnInsert": {"expiresAt": window_ends}},
            upsert=True)

    async def clear_failures(self, username: str) -> None:
        await self._failures.delete_one({"_id": username.lower()})

    # -- authorization codes -------------------------------------------------------------
    async def add_code(self, key: str, grant: dict[str, Any], expires_at: datetime) -> None:
        await self._codes.insert_one({"_id": key, "grant": grant, "used": False,
                                      "issued": None, "expiresAt": expires_at})

    async def redeem_code(self, key: str) -> dict[str, Any] | None:
        """Mark a code used, atomically; the code as it was before (``used`` tells a
        second use)."""
        return live(await self._codes.find_one_and_update(
            {"_id": key}, {"$set": {"used": True}}, return_document=ReturnDocument.BEFORE))

    async def record_issued(self, key: str, issued: dict[str, Any]) -> None:
        """What a code's first use gave out (revoked if the code is used again)."""
        await self._codes.update_one({"_id": key}, {"$set": {"issued": issued}})

    # -- EHR launch contexts -------------------------------------------------------------
    async def add_launch(self, key: str, context: dict[str, Any],
                         expires_at: datetime) -> None:
        await self._launches.insert_one({"_id": key, "context": context,
                                         "expiresAt": expires_at})

    async def launch(self, key: str) -> dict[str, Any] | None:
        doc = live(await self._launches.find_one({"_id": key}))
        return None if doc is None else doc["context"]
