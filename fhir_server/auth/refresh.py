"""Refresh tokens: rotation with reuse detection (OAuth 2.0 Security BCP, RFC 9700
section 4.14.2; RFC 6749 section 6).

The refresh tokens of one authorization grant form a *family*. Each use hands out the
next token and retires the one used; only the newest works. A retired token coming back
means two parties hold the grant's tokens (one of them stole it), and the server cannot
tell which is legitimate, so the whole family is revoked: its refresh tokens and the
access tokens it issued. Revoking a refresh token (RFC 7009 section 2.1) revokes its
family the same way, as does a second use of the authorization code it came from.

The state lives in :class:`fhir_server.storage.auth_refresh.RefreshFamilies`, changed only
by atomic single-document operations: of two concurrent uses of one token exactly one
rotates; the other finds the token retired and revokes the family.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .store import digest, new_secret
from .tokens import TokenService

if TYPE_CHECKING:
    from ..storage.auth_refresh import RefreshFamilies

__all__ = ["RefreshTokens", "Family"]


@dataclass(frozen=True)
class Family:
    """The family that handed out a presented refresh token."""

    doc: dict[str, Any]
    presented: str  # the digest of the token presented

    @property
    def id(self) -> str:
        return str(self.doc["_id"])

    @property
    def client_id(self) -> str:
        return str(self.doc["client_id"])

    @property
    def grant(self) -> dict[str, Any]:
        return dict(self.doc["grant"])

    @property
    def expires_at(self) -> datetime:
        return self.doc["expiresAt"]

    @property
    def current(self) -> bool:
        """Whether the presented token is the one that may be used (not rotated out)."""
        return self.doc["current"] == self.presented


class RefreshTokens:
    def __init__(self, families: RefreshFamilies, tokens: TokenService) -> None:
        self.families = families
        self.tokens = tokens

    async def start(self, grant: dict[str, Any], expires_at: datetime, code: str | None,
                    access: dict[str, Any]) -> str:
        """The first refresh token of a new family; ``code``: the digest of the
        authorization code the grant came from, ``access``: the access token issued with
        it (``{jti, exp}``)."""
        token = new_secret()
        await self.families.start(uuid.uuid4().hex, client_id=grant["client_id"],
                                  grant=grant, code=code, token=digest(token),
                                  access=access, expires_at=expires_at)
        return token

    async def find(self, token: str) -> Family | None:
        """The live family that handed out ``token``, current or rotated out."""
        if not isinstance(token, str) or not token:
            return None
        key = digest(token)
        doc = await self.families.holding(key)
        return None if doc is None else Family(doc, key)

    async def rotate(self, family: Family, grant: dict[str, Any], access: dict[str, Any],
                     *, another: bool) -> str | None:
        """Retire the presented (current) token; the next one (None when ``another`` is
        False: the family ends). Raises :class:`Reused` when the token was retired
        meanwhile (a concurrent use): the family is then revoked."""
        new = new_secret() if another else None
        if not await self.families.rotate(family.id, family.presented,
                                          new=None if new is None else digest(new),
                                          grant=grant, access=access):
            await self.revoke(family)
            raise Reused
        return new

    async def revoke(self, family: Family) -> None:
        """Revoke a family: its refresh tokens and the access tokens it issued."""
        removed = await self.families.remove(family.id)
        if removed is not None:
            await self._revoke_access(removed)

    async def revoke_of_code(self, code: str) -> None:
        """Revoke every family that came from an authorization code (its digest)."""
        for removed in await self.families.remove_of_code(code):
            await self._revoke_access(removed)

    async def revoke_of_client(self, client_id: str) -> None:
        """Revoke every family of a client (a client removed from the registry)."""
        for removed in await self.families.remove_of_client(client_id):
            await self._revoke_access(removed)

    async def _revoke_access(self, doc: dict[str, Any]) -> None:
        now = time.time()
        for access in doc.get("access") or []:
            if access["exp"] > now:
                await self.tokens.revoke_id(access["jti"], access["exp"])


class Reused(Exception):
    """A refresh token was used after it had been rotated out; its family is revoked."""
