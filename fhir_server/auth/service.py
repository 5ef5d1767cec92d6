"""The authorization server's parts, built once per process over the storage layer's
:class:`~fhir_server.storage.auth_storage.AuthStorage`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..config import Settings
from .client_auth import ClientAuthenticator
from .external import ExternalTokens
from .jwks import RemoteJwks
from .keys import CachedKeys, key_store_for
from .options import AuthOptions, Endpoints
from .refresh import RefreshTokens
from .registry import Registry
from .store import AuthStore
from .tokens import TokenService

if TYPE_CHECKING:
    from ..storage.auth_storage import AuthStorage

__all__ = ["AuthService", "build_auth"]


@dataclass
class AuthService:
    settings: Settings
    options: AuthOptions
    endpoints: Endpoints
    storage: AuthStorage
    registry: Registry
    store: AuthStore
    keys: CachedKeys
    tokens: TokenService
    refresh: RefreshTokens
    clients: ClientAuthenticator
    remote: RemoteJwks
    external: ExternalTokens | None

    async def ensure_indexes(self) -> None:
        await self.storage.ensure_indexes()
        await self.remote.ensure_indexes()
        await self.keys.store.ensure_indexes()


def build_auth(settings: Settings, storage: AuthStorage,
               options: AuthOptions | None = None) -> AuthService:
    options = options or AuthOptions()
    endpoints = Endpoints.of(settings)
    keys = CachedKeys(key_store_for(settings, storage.keys))
    registry = Registry(storage.registry)
    remote = RemoteJwks(storage.jwks)
    external = ExternalTokens(options.external, remote) if options.external else None
    tokens = TokenService(storage.tokens, keys, endpoints)
    return AuthService(
        settings=settings, options=options, endpoints=endpoints, storage=storage,
        registry=registry, store=AuthStore(storage.state), keys=keys, tokens=tokens,
        refresh=RefreshTokens(storage.refresh, tokens),
        clients=ClientAuthenticator(storage.tokens, registry, remote, endpoints.token,
                                    options.max_assertion_seconds),
        remote=remote, external=external,
    )
