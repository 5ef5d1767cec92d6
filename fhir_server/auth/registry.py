"""Registered clients (apps, backend services, resource servers) and users.

* A client's ``kind`` is ``public``, ``confidential-symmetric`` (a secret) or
  ``confidential-asymmetric`` (``private_key_jwt`` with a JWKS or a JWKS URL). A
  confidential client registered as a *resource server* may introspect any token
  (RFC 7662 section 2.1); other clients only their own.
* Users are people who sign in on the authorization page, each linked to the Patient or
  Practitioner they are.

Secrets and passwords are stored as scrypt hashes (``hashlib.scrypt``), never in clear;
the documents live in :class:`fhir_server.storage.auth_registry.RegistryRecords`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from .. import clock

if TYPE_CHECKING:
    from ..storage.auth_registry import RegistryRecords

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
    resource_server: bool = False

    @property
    def public(self) -> bool:
        return self.kind == "public"

    def to_doc(self) -> dict[str, Any]:
        return {"_id": self.client_id, "kind": self.kind, "scope": self.scope,
                "redirectUris": self.redirect_uris, "secretHash": self.secret_hash,
                "jwks": self.jwks, "jwksUrl": self.jwks_url, "pkce": self.pkce,
                "name": self.name, "resourceServer": self.resource_server,
                "created": clock.now()}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Client:
        return cls(doc["_id"], doc["kind"], doc["scope"], list(doc.get("redirectUris", [])),
                   doc.get("secretHash"), doc.get("jwks"), doc.get("jwksUrl"),
                   bool(doc.get("pkce", True)), doc.get("name"),
                   bool(doc.get("resourceServer", False)))

    def summary(self) -> dict[str, Any]:
        """What ``clients list`` shows: never the secret hash or key material."""
        return {"client_id": self.client_id, "kind": self.kind, "scope": self.scope,
                "redirect_uris": self.redirect_uris, "jwks_url": self.jwks_url,
                "inline_jwks": self.jwks is not None, "pkce_required": self.pkce,
                "resource_server": self.resource_server}


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


def _check_resource_server(public: bool) -> None:
    if public:
        raise RegistryError("a public client cannot be a resource server: introspection "
                            "needs a confidential client")


class Registry:
    def __init__(self, records: RegistryRecords) -> None:
        self.records = records

    async def add_client(self, client: Client) -> None:
        check_name(client.client_id, "client_id")
        if client.public and not client.pkce:
            raise RegistryError("public clients always use PKCE")
        if client.resource_server:
            _check_resource_server(client.public)
        if not await self.records.add_client(client.to_doc()):
            raise RegistryError(f"client '{client.client_id}' already exists")

    async def client(self, client_id: str) -> Client | None:
        if not isinstance(client_id, str):
            return None
        doc = await self.records.client(client_id)
        return Client.from_doc(doc) if doc else None

    async def list_clients(self) -> list[Client]:
        return [Client.from_doc(d) for d in await self.records.clients()]

    async def set_resource_server(self, client_id: str, resource_server: bool) -> None:
        """Let a confidential client introspect every token (or only its own again)."""
        client = await self.client(client_id)
        if client is None:
            raise RegistryError(f"no client '{client_id}'")
        if resource_server:
            _check_resource_server(client.public)
        await self.records.change_client(client_id, {"resourceServer": resource_server})

    async def remove_client(self, client_id: str) -> bool:
        return await self.records.remove_client(client_id)

    async def add_user(self, username: str, password: str, fhir_user: str) -> User:
        check_name(username, "username")
        user = User(username, check_fhir_user(fhir_user), hash_secret(password))
        if not await self.records.add_user({"_id": username,
                                            "passwordHash": user.password_hash,
                                            "fhirUser": user.fhir_user,
                                            "created": clock.now()}):
            raise RegistryError(f"user '{username}' already exists")
        return user

    async def authenticate_user(self, username: str, password: str) -> User | None:
        doc = await self.records.user(username) if isinstance(username, str) else None
        stored = doc["passwordHash"] if doc else _unknown_user_hash()
        if not verify_secret(password, stored) or doc is None:
            return None
        return User(doc["_id"], doc["fhirUser"], doc["passwordHash"])
