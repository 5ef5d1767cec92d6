"""Registered clients (apps, backend services) and users, kept in MongoDB.

* ``auth_clients``: ``{_id: client_id, kind, secretHash, jwks, jwksUrl, redirectUris,
  scope, pkce, created}``. ``kind`` is ``public``, ``confidential-symmetric`` (a secret)
  or ``confidential-asymmetric`` (``private_key_jwt`` with a JWKS or a JWKS URL).
* ``auth_users``: ``{_id: username, passwordHash, fhirUser}``: people who log in on the
  authorization page, each linked to the Patient or Practitioner they are.

Secrets and passwords are stored as scrypt hashes (``hashlib.scrypt``), never in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from .. import clock

__all__ = ["Client", "User", "Registry", "hash_secret", "verify_secret", "RegistryError",
           "FHIR_USER_TYPES"]

FHIR_USER_TYPES = ("Patient", "Practitioner", "PractitionerRole", "RelatedPerson", "Person")
_FHIR_USER = re.compile("^(" + "|".join(FHIR_USER_TYPES) + r")/[A-Za-z0-9\-.]{1,64}$")
_NAME = re.compile(r"^[A-Za-z0-9._~@:\-]{1,128}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@cache
def _unknown_user_hash() -> str:
    """Hashed once, so a login with an unknown username costs as much as a wrong password."""
    return hash_secret(secrets.token_urlsafe(16))


class RegistryError(ValueError):
    """A registration that cannot be stored (duplicate, malformed)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str | None) -> bool:
    if not stored or stored.count("$") != 5:
        return False
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(secret.encode(), salt=_unb64(salt), n=int(n), r=int(r),
                               p=int(p))
    return hmac.compare_digest(candidate, _unb64(digest))


@dataclass
class Client:
    client_id: str
    kind: str
    scope: str
    redirect_uris: list[str] = field(default_factory=list)
    secret_hash: str | None = None
    jwks: dict[str, Any] | None = None
    jwks_url: str | None = None
    pkce: bool = True
    name: str | None = None

    @property
    def public(self) -> bool:
        return self.kind == "public"

    def to_doc(self) -> dict[str, Any]:
        return {"_id": self.client_id, "kind": self.kind, "scope": self.scope,
                "redirectUris": self.redirect_uris, "secretHash": self.secret_hash,
                "jwks": self.jwks, "jwksUrl": self.jwks_url, "pkce": self.pkce,
                "name": self.name, "created": clock.now()}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Client:
        return cls(doc["_id"], doc["kind"], doc["scope"], list(doc.get("redirectUris", [])),
                   doc.get("secretHash"), doc.get("jwks"), doc.get("jwksUrl"),
                   bool(doc.get("pkce", True)), doc.get("name"))

    def summary(self) -> dict[str, Any]:
        """What ``clients list`` shows: never the secret hash or key material."""
        return {"client_id": self.client_id, "kind": self.kind, "scope": self.scope,
                "redirect_uris": self.redirect_uris, "jwks_url": self.jwks_url,
                "inline_jwks": self.jwks is not None, "pkce_required": self.pkce}


@dataclass
class User:
    username: str
    fhir_user: str
    password_hash: str = ""

    @property
    def fhir_user_type(self) -> str:
        return self.fhir_user.split("/", 1)[0]


def check_fhir_user(reference: str) -> str:
    if not _FHIR_USER.match(reference):
        raise RegistryError(f"fhirUser must be one of {', '.join(FHIR_USER_TYPES)} "
                            f"followed by /id, not '{reference[:80]}'")
    return reference


def check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise RegistryError(f"{what} may use letters, digits and ._~@:- (1-128 characters)")
    return value


class Registry:
    def __init__(self, db: AsyncDatabase) -> None:
        self.clients = db["auth_clients"]
        self.users = db["auth_users"]

    async def add_client(self, client: Client) -> None:
        check_name(client.client_id, "client_id")
        if client.public and not client.pkce:
            raise RegistryError("public clients always use PKCE")
        try:
            await self.clients.insert_one(client.to_doc())
        except DuplicateKeyError:
            raise RegistryError(f"client '{client.client_id}' already exists") from None

    async def client(self, client_id: str) -> Client | None:
        if not isinstance(client_id, str):
            return None
        doc = await self.clients.find_one({"_id": client_id})
        return Client.from_doc(doc) if doc else None

    async def list_clients(self) -> list[Client]:
        return [Client.from_doc(d) for d in await self.clients.find().sort("_id").to_list()]

    async def remove_client(self, client_id: str) -> bool:
        return (await self.clients.delete_one({"_id": client_id})).deleted_count == 1

    async def add_user(self, username: str, password: str, fhir_user: str) -> User:
        check_name(username, "username")
        user = User(username, check_fhir_user(fhir_user), hash_secret(password))
        try:
            await self.users.insert_one({"_id": username, "passwordHash": user.password_hash,
                                         "fhirUser": user.fhir_user, "created": clock.now()})
        except DuplicateKeyError:
            raise RegistryError(f"user '{username}' already exists") from None
        return user

    async def authenticate_user(self, username: str, password: str) -> User | None:
        doc = await self.users.find_one({"_id": username}) if isinstance(username, str) else None
        stored = doc["passwordHash"] if doc else _unknown_user_hash()
        if not verify_secret(password, stored) or doc is None:
            return None
        return User(doc["_id"], doc["fhirUser"], doc["passwordHash"])
