"""Everything the SMART authorization server (:mod:`fhir_server.auth`) keeps in MongoDB,
opened together over one database."""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from .auth_jwks import JwksCache
from .auth_keys import SigningKeyRecords
from .auth_refresh import RefreshFamilies
from .auth_registry import RegistryRecords
from .auth_state import AuthState
from .auth_tokens import TokenRecords

__all__ = ["AuthStorage"]


@dataclass(frozen=True)
class AuthStorage:
    state: AuthState
    refresh: RefreshFamilies
    registry: RegistryRecords
    keys: SigningKeyRecords
    tokens: TokenRecords
    jwks: JwksCache

    @classmethod
    def open(cls, db: AsyncDatabase) -> AuthStorage:
        return cls(AuthState(db), RefreshFamilies(db), RegistryRecords(db),
                   SigningKeyRecords(db), TokenRecords(db), JwksCache(db))

    async def ensure_indexes(self) -> None:
        """The TTL and lookup indexes of the authorization state (the signing keys' and
        the JWKS cache's are their users' to create: see :mod:`fhir_server.auth.keys` and
        :mod:`fhir_server.auth.jwks`)."""
        await self.state.ensure_indexes()
        await self.refresh.ensure_indexes()
        await self.tokens.ensure_indexes()
