"""The authorization server's parts, built once per process over one database."""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from ..config import Settings
from .client_auth import ClientAuthenticator
from .external import ExternalTokens
from .jwks import RemoteJwks
from .keys import CachedKeys, key_store_for
from .options import AuthOptions, Endpoints
from .registry import Registry
from .store import AuthStore
from .tokens import TokenService

__all__ = ["AuthService", "build_auth"]


@dataclass
class AuthService:
    settings: Settings
    options: AuthOptions
    endpoints: Endpoints
    db: AsyncDatabase
    registry: Registry
    store: AuthStore
    keys: CachedKeys
    tokens: TokenService
    clients: ClientAuthenticator
    remote: RemoteJwks
    external: ExternalTokens | None

    async def ensure_indexes(self) -> None:
        for part in (self.store, self.tokens, self.clients, self.remote, self.keys.store):
            await part.ensure_indexes()  # type: ignore[attr-defined]


def build_auth(settings: Settings, db: AsyncDatabase,
               options: AuthOptions | None = None) -> AuthService:
    options = options or AuthOptions()
    endpoints = Endpoints.of(settings)
    keys = CachedKeys(key_store_for(settings, db))
    registry = Registry(db)
    remote = RemoteJwks(db)
    external = ExternalTokens(options.external, remote) if options.external else None
    return AuthService(
        settings=settings, options=options, endpoints=endpoints, db=db, registry=registry,
        store=AuthStore(db), keys=keys, tokens=TokenService(db, keys, endpoints),
        clients=ClientAuthenticator(db, registry, remote, endpoints.token,
                                    options.max_assertion_seconds),
        remote=remote, external=external,
    )
