"""The server's signing keys: generated on first use, rotatable, published as a JWKS.

Where they live (one source of truth for every process that signs or verifies):

* embedded database: ``<data dir>/auth/signing-keys.json`` (mode 0600), next to the
  database files, so the data dir stays the server's whole state;
* external database (``MONGODB_URI``): the database
  (:class:`fhir_server.storage.auth_keys.SigningKeyRecords`), because several server
  processes on several hosts share the database but no directory.

Rotation makes a new key the signing key at once; the old one stays published until every
token it signed has expired (``retire_after`` seconds), then disappears.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from joserfc.jwk import KeySet, RSAKey

from ..config import Settings

if TYPE_CHECKING:
    from ..storage.auth_keys import SigningKeyRecords

__all__ = ["SigningKey", "KeyStore", "DatabaseKeyStore", "FileKeyStore", "key_store_for",
           "SIGNING_ALGORITHM"]

SIGNING_ALGORITHM = "RS256"
_CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class SigningKey:
    kid: str
    jwk: dict[str, Any]
    created: float
    retired: float | None = None
    expires: float | None = None

    @classmethod
    def generate(cls) -> SigningKey:
        key = RSAKey.generate_key(2048, parameters={"alg": SIGNING_ALGORITHM, "use": "sig"},
                                  auto_kid=True)
        return cls(key.kid or "", key.as_dict(private=True), time.time())

    @cached_property
    def key(self) -> RSAKey:
        return RSAKey.import_key(self.jwk)

    def public(self) -> dict[str, Any]:
        return self.key.as_dict(private=False)


class KeyStore(Protocol):
    async def ensure_indexes(self) -> None:
        """Prepare the storage (TTL index for the database store)."""

    async def load(self) -> list[SigningKey]:
        """Every key still published, newest first; creates the first key when none."""

    async def rotate(self, retire_after: float) -> SigningKey:
        """Add a new signing key; older ones are published ``retire_after`` more seconds."""


class DatabaseKeyStore:
    """Keys in the database; a TTL index drops them after retirement."""

    def __init__(self, records: SigningKeyRecords) -> None:
        self.records = records

    async def ensure_indexes(self) -> None:
        await self.records.ensure_indexes()

    async def load(self) -> list[SigningKey]:
        keys = await self._published()
        if not keys:
            await self._insert(SigningKey.generate())
            keys = await self._published()
        return keys

    async def _published(self) -> list[SigningKey]:
        now = time.time()
        keys = map(_from_doc, await self.records.all())
        return [key for key in keys if key.expires is None or key.expires > now]

    async def _insert(self, key: SigningKey) -> None:
        await self.records.add(key.kid, key.jwk, key.created)

    async def rotate(self, retire_after: float) -> SigningKey:
        new = SigningKey.generate()
        await self._insert(new)
        now = time.time()
        await self.records.retire_others(new.kid, now,
                                         datetime.fromtimestamp(now + retire_after, UTC))
        return new


def _from_doc(doc: dict[str, Any]) -> SigningKey:
    expires = doc.get("expiresAt")
    return SigningKey(doc["_id"], doc["jwk"], doc["created"], doc.get("retired"),
                      expires.timestamp() if expires is not None else None)


class FileKeyStore:
    """Keys in one JSON file, changed under an exclusive ``flock`` (server and CLI share it)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "signing-keys.json"

    async def ensure_indexes(self) -> None:
        return None

    async def load(self) -> list[SigningKey]:
        return await asyncio.to_thread(self._change, None)

    async def rotate(self, retire_after: float) -> SigningKey:
        keys = await asyncio.to_thread(self._change, retire_after)
        return keys[0]

    def _change(self, retire_after: float | None) -> list[SigningKey]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.directory / "signing-keys.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            now = time.time()
            keys = [k for k in self._read() if k.expires is None or k.expires > now]
            if retire_after is not None:
                keys = [SigningKey(k.kid, k.jwk, k.created, k.retired or now,
                                   k.expires or now + retire_after) for k in keys]
            if retire_after is not None or not keys:
                keys.insert(0, SigningKey.generate())
                self._write(keys)
            return sorted(keys, key=lambda k: (k.created, k.kid), reverse=True)

    def _read(self) -> list[SigningKey]:
        if not self.path.exists():
            return []
        return [SigningKey(**entry) for entry in json.loads(self.path.read_text())["keys"]]

    def _write(self, keys: list[SigningKey]) -> None:
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"keys": [k.__dict__ for k in keys]}, out)
        os.replace(temporary, self.path)


def _embedded(settings: Settings) -> bool:
    state = settings.data_dir / "embedded-db.json"
    try:
        return json.loads(state.read_text()).get("uri") == settings.mongodb_uri
    except (OSError, ValueError):
        return False


def key_store_for(settings: Settings, records: SigningKeyRecords
                  ) -> DatabaseKeyStore | FileKeyStore:
    """The data dir's key file with the embedded database, the database with an external
    one."""
    if _embedded(settings):
        return FileKeyStore(settings.data_dir.resolve() / "auth")
    return DatabaseKeyStore(records)


class CachedKeys:
    """A short-lived view of a store, refreshed when a token names an unknown ``kid``.

    Keys are parsed once per load, not per token.
    """

    def __init__(self, store: KeyStore) -> None:
        self.store = store
        self._keys: list[SigningKey] = []
        self._key_set = KeySet([])
        self._loaded = 0.0

    async def keys(self, *, refresh: bool = False) -> list[SigningKey]:
        if refresh or not self._keys or time.monotonic() - self._loaded > _CACHE_SECONDS:
            keys = await self.store.load()
            self._key_set = KeySet([k.key for k in keys])
            self._keys = keys
            self._loaded = time.monotonic()
        return self._keys

    async def signing_key(self) -> tuple[str, RSAKey]:
        """The newest key's ``kid`` and private key."""
        keys = await self.keys()
        return keys[0].kid, self._key_set.keys[0]

    async def verification_keys(self, kid: str | None) -> KeySet:
        keys = await self.keys()
        if kid is not None and all(k.kid != kid for k in keys):
            await self.keys(refresh=True)
        return self._key_set

    async def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public() for k in await self.keys()]}
