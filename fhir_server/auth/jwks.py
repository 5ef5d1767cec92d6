"""Fetching JSON Web Key Sets by URL (clients' ``jwks_uri``, external OIDC issuers).

Fetched sets are cached in MongoDB for five minutes (:mod:`fhir_server.storage.auth_jwks`,
shared by every server process) and fetched again when a token names a ``kid`` the cache lacks,
at most once a minute per URL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import orjson

if TYPE_CHECKING:
    from ..storage.auth_jwks import JwksCache

__all__ = ["RemoteJwks"]

_KEEP = timedelta(minutes=5)
_REFETCH_AFTER = timedelta(minutes=1)
_MAX_BYTES = 256 * 1024


class RemoteJwks:
    def __init__(self, cache: JwksCache) -> None:
        self.cache = cache

    async def ensure_indexes(self) -> None:
        await self.cache.ensure_indexes(int(_KEEP.total_seconds()))

    async def fetch(self, url: str, kid: str | None = None) -> dict[str, Any]:
        """The key set at ``url``; raises ValueError when it cannot be had."""
        now = datetime.now(UTC)
        cached = await self.cache.cached(url)
        if cached is not None:
            fetched = cached["fetchedAt"]
            known = {k.get("kid") for k in cached["jwks"].get("keys", [])}
            if kid is None or kid in known or now - fetched < _REFETCH_AFTER:
                return cached["jwks"]
        jwks = await _download(url)
        await self.cache.store(url, jwks, now)
        return jwks


async def _download(url: str) -> dict[str, Any]:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"'{url}' is not an http(s) URL")
    try:
        async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise ValueError(f"{url}: {error}") from None
    if response.status_code != 200:
        raise ValueError(f"{url} answered {response.status_code}")
    if len(response.content) > _MAX_BYTES:
        raise ValueError(f"{url} returned more than {_MAX_BYTES} bytes")
    try:
        jwks = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise ValueError(f"{url} did not return JSON") from None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError(f"{url} did not return a JWKS ({{\"keys\": [...]}})")
    return jwks
