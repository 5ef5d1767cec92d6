"""Authorization state that must outlive one request, in MongoDB with TTL indexes.

Every collection holds documents with an ``expiresAt`` date that a TTL index removes;
readers also compare it with the clock, since TTL deletion runs only once a minute.
Secrets handed to clients (codes, refresh tokens, session cookies) are stored as SHA-256
digests, so a database dump cannot be replayed.

* ``auth_pending``: authorization requests between the authorize call and the decision
* ``auth_sessions``: logged-in users of the authorization pages
* ``auth_codes``: authorization codes (single use; reuse revokes what they gave out)
* ``auth_refresh``: refresh tokens (single use; each use hands out the next one)
* ``auth_launch``: EHR launch contexts behind the opaque ``launch`` parameter
* ``auth_login_failures``: failed sign-ins per username, to slow down password guessing
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["AuthStore", "digest", "new_secret", "MAX_LOGIN_FAILURES"]

_COLLECTIONS = ("auth_pending", "auth_sessions", "auth_codes", "auth_refresh", "auth_launch",
                "auth_login_failures")
_FAILURE_WINDOW_SECONDS = 900
MAX_LOGIN_FAILURES = 5


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _now() -> datetime:
    return datetime.now(UTC)


def _expires(seconds: int) -> datetime:
    return _now() + timedelta(seconds=seconds)


class AuthStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.pending = db["auth_pending"]
        self.sessions = db["auth_sessions"]
        self.codes = db["auth_codes"]
        self.refresh = db["auth_refresh"]
        self.launches = db["auth_launch"]
        self.login_failures = db["auth_login_failures"]
        self.db = db

    async def ensure_indexes(self) -> None:
        for name in _COLLECTIONS:
            await self.db[name].create_index("expiresAt", expireAfterSeconds=0, name="ttl")
        await self.refresh.create_index("code", name="code")

    # -- generic: a secret handed out, its digest stored --------------------------------
    async def _put(self, collection: AsyncCollection, body: dict[str, Any], seconds: int,
                   secret: str | None = None) -> str:
        secret = secret or new_secret()
        await collection.insert_one({"_id": digest(secret), **body,
                                     "expiresAt": _expires(seconds)})
        return secret

    async def _get(self, collection: AsyncCollection, secret: str) -> dict[str, Any] | None:
        if not isinstance(secret, str) or not secret:
            return None
        doc = await collection.find_one({"_id": digest(secret)})
        return doc if doc is not None and doc["expiresAt"] > _now() else None

    # -- pending authorization requests ------------------------------------------------
    async def put_pending(self, request: dict[str, Any], seconds: int) -> str:
        return await self._put(self.pending, {"request": request, "csrf": new_secret(),
                                              "session": None}, seconds)

    async def pending_request(self, handle: str) -> dict[str, Any] | None:
        return await self._get(self.pending, handle)

    async def bind_pending(self, handle: str, session: str) -> None:
        await self.pending.update_one({"_id": digest(handle)},
                                      {"$set": {"session": digest(session)}})

    async def finish_pending(self, handle: str) -> dict[str, Any] | None:
        """Take a pending request out (a decision is made once)."""
        doc = await self.pending.find_one_and_delete({"_id": digest(handle)})
        return doc if doc is not None and doc["expiresAt"] > _now() else None

    # -- login sessions --------------------------------------------------------------
    async def put_session(self, username: str, fhir_user: str, seconds: int) -> str:
        return await self._put(self.sessions, {"username": username, "fhirUser": fhir_user},
                               seconds)

    async def session(self, cookie: str | None) -> dict[str, Any] | None:
        return await self._get(self.sessions, cookie or "")

    async def login_blocked(self, username: str) -> bool:
        doc = await self.login_failures.find_one({"_id": username.lower()})
        return (doc is not None and doc["expiresAt"] > _now()
                and doc["failures"] >= MAX_LOGIN_FAILURES)

    async def login_failed(self, username: str) -> None:
        """Count a failure; the count is forgotten a quarter of an hour after the first."""
        await self.login_failures.update_one(
            {"_id": username.lower()},
            {"$inc": {"failures": 1},
             "$setOnInsert": {"expiresAt": _expires(_FAILURE_WINDOW_SECONDS)}},
            upsert=True)

    async def login_succeeded(self, username: str) -> None:
        await self.login_failures.delete_one({"_id": username.lower()})

    # -- authorization codes -----------------------------------------------------------
    async def put_code(self, grant: dict[str, Any], seconds: int) -> str:
        return await self._put(self.codes, {"grant": grant, "used": False, "issued": None},
                               seconds)

    async def redeem_code(self, code: str) -> dict[str, Any] | None:
        """Mark a code used; returns it as it was before (``used`` tells a reuse)."""
        if not isinstance(code, str) or not code:
            return None
        doc = await self.codes.find_one_and_update(
            {"_id": digest(code)}, {"$set": {"used": True}},
            return_document=ReturnDocument.BEFORE,
        )
        return doc if doc is not None and doc["expiresAt"] > _now() else None

    async def record_issued(self, code: str, issued: dict[str, Any]) -> None:
        await self.codes.update_one({"_id": digest(code)}, {"$set": {"issued": issued}})

    # -- refresh tokens ----------------------------------------------------------------
    async def put_refresh(self, grant: dict[str, Any], expires_at: datetime,
                          code_digest: str | None = None) -> str:
        """A refresh token; ``code_digest`` names the code it descends from."""
        token = new_secret()
        await self.refresh.insert_one({"_id": digest(token), "grant": grant,
                                       "code": code_digest, "expiresAt": expires_at})
        return token

    async def take_refresh(self, token: str, client_id: str) -> dict[str, Any] | None:
        if not isinstance(token, str) or not token:
            return None
        doc = await self.refresh.find_one_and_delete(
            {"_id": digest(token), "grant.client_id": client_id})
        return doc if doc is not None and doc["expiresAt"] > _now() else None

    async def refresh_token(self, token: str) -> dict[str, Any] | None:
        return await self._get(self.refresh, token)

    async def revoke_refresh(self, token: str) -> bool:
        result = await self.refresh.delete_one({"_id": digest(token)})
        return result.deleted_count == 1

    async def revoke_refresh_of_code(self, code_digest: str) -> None:
        await self.refresh.delete_many({"code": code_digest})

    # -- EHR launch contexts -----------------------------------------------------------
    async def put_launch(self, context: dict[str, Any], seconds: int) -> str:
        return await self._put(self.launches, {"context": context}, seconds)

    async def launch(self, launch: str) -> dict[str, Any] | None:
        doc = await self._get(self.launches, launch)
        return doc["context"] if doc else None
