"""Secrets the authorization pages hand out, and what stands behind them.

Pending authorization requests, sign-in session cookies, authorization codes and EHR
launch contexts are opaque random secrets (256 bits); the storage layer
(:class:`fhir_server.storage.auth_state.AuthState`) keeps only their SHA-256 digests, so a
database dump cannot be replayed. Failed sign-ins are counted per username to slow down
password guessing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .. import clock

if TYPE_CHECKING:
    from ..storage.auth_state import AuthState

__all__ = ["AuthStore", "digest", "new_secret", "MAX_LOGIN_FAILURES"]

_FAILURE_WINDOW_SECONDS = 900
MAX_LOGIN_FAILURES = 5


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def expires_in(seconds: int) -> datetime:
    return clock.now() + timedelta(seconds=seconds)


def _presented(secret: str | None) -> str | None:
    """The digest of a secret a client or browser sent, None when it sent nothing."""
    return digest(secret) if isinstance(secret, str) and secret else None


class AuthStore:
    def __init__(self, state: AuthState) -> None:
        self.state = state

    # -- pending authorization requests ------------------------------------------------
    async def put_pending(self, request: dict[str, Any], seconds: int) -> str:
        handle = new_secret()
        await self.state.add_pending(digest(handle), request, new_secret(),
                                     expires_in(seconds))
        return handle

    async def pending_request(self, handle: str) -> dict[str, Any] | None:
        key = _presented(handle)
        return None if key is None else await self.state.pending(key)

    async def bind_pending(self, handle: str, session: str) -> None:
        await self.state.bind_pending(digest(handle), digest(session))

    async def finish_pending(self, handle: str) -> dict[str, Any] | None:
        """Take a pending request out (a decision is made once)."""
        key = _presented(handle)
        return None if key is None else await self.state.take_pending(key)

    # -- sign-in sessions --------------------------------------------------------------
    async def put_session(self, username: str, fhir_user: str, seconds: int) -> str:
        cookie = new_secret()
        await self.state.add_session(digest(cookie), username, fhir_user,
                                     expires_in(seconds))
        return cookie

    async def session(self, cookie: str | None) -> dict[str, Any] | None:
        key = _presented(cookie)
        return None if key is None else await self.state.session(key)

    async def session_alive(self, session_digest: str) -> bool:
        """Whether the session a grant was made in (kept as its digest) still lasts."""
        return await self.state.session(session_digest) is not None

    async def login_blocked(self, username: str) -> bool:
        return await self.state.failures(username) >= MAX_LOGIN_FAILURES

    async def login_failed(self, username: str) -> None:
        """Count a failure; the count is forgotten a quarter of an hour after the first."""
        await self.state.count_failure(username, expires_in(_FAILURE_WINDOW_SECONDS))

    async def login_succeeded(self, username: str) -> None:
        await self.state.clear_failures(username)

    # -- authorization codes -----------------------------------------------------------
    async def put_code(self, grant: dict[str, Any], seconds: int) -> str:
        code = new_secret()
        await self.state.add_code(digest(code), grant, expires_in(seconds))
        return code

    async def redeem_code(self, code: str) -> dict[str, Any] | None:
        """Mark a code used; returns it as it was before (``used`` tells a reuse)."""
        key = _presented(code)
        return None if key is None else await self.state.redeem_code(key)

    async def record_issued(self, code: str, issued: dict[str, Any]) -> None:
        await self.state.record_issued(digest(code), issued)

    # -- EHR launch contexts -----------------------------------------------------------
    async def put_launch(self, context: dict[str, Any], seconds: int) -> str:
        launch = new_secret()
        await self.state.add_launch(digest(launch), context, expires_in(seconds))
        return launch

    async def launch(self, launch: str) -> dict[str, Any] | None:
        key = _presented(launch)
        return None if key is None else await self.state.launch(key)
