"""Access tokens and id_tokens: signed JWTs (joserfc), revocable by ``jti``.

Access tokens follow RFC 9068 (JWT profile for OAuth 2.0 access tokens, ``typ: at+jwt``)
with SMART's context claims (``patient``, ``encounter``, ``fhirUser``) added. id_tokens
follow OpenID Connect Core 1.0 section 2 and are signed RS256 as SMART requires.
Revoked tokens are remembered (:class:`fhir_server.storage.auth_tokens.TokenRecords`) until
they would have expired.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry

from ..access.identity import AccessContext
from ..access.scopes import ScopeSet, parse_scopes
from .keys import SIGNING_ALGORITHM, CachedKeys
from .options import Endpoints

if TYPE_CHECKING:
    from ..storage.auth_tokens import TokenRecords

__all__ = ["TokenService", "InvalidToken", "unverified_parts"]

_LEEWAY = 30


class InvalidToken(Exception):
    """A bearer token that must be refused with 401 ``invalid_token``."""


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWT before its signature is checked (to pick a key)."""
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError) as error:
        raise InvalidToken(f"malformed token: {error}") from None
    if not isinstance(claims, dict):
        raise InvalidToken("malformed token: the payload is not a JSON object")
    return dict(compact.headers()), claims


class TokenService:
    def __init__(self, records: TokenRecords, keys: CachedKeys, endpoints: Endpoints) -> None:
        self.records = records
        self.keys = keys
        self.endpoints = endpoints

    async def _sign(self, claims: dict[str, Any], typ: str) -> str:
        kid, key = await self.keys.signing_key()
        header = {"alg": SIGNING_ALGORITHM, "kid": kid, "typ": typ}
        return jwt.encode(header, claims, key, algorithms=[SIGNING_ALGORITHM])

    async def access_token(
        self,
        *,
        client_id: str,
        scopes: ScopeSet,
        kind: str,
        subject: str,
        lifetime: int,
        fhir_user: str | None = None,
        patient: str | None = None,
        encounter: str | None = None,
        purpose_of_use: tuple[str, ...] = (),
    ) -> tuple[str, dict[str, Any]]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.endpoints.issuer, "aud": self.endpoints.fhir_base, "sub": subject,
            "client_id": client_id, "scope": str(scopes), "iat": now, "nbf": now,
            "exp": now + lifetime, "jti": uuid.uuid4().hex, "kind": kind,
        }
        context = {"fhirUser": fhir_user, "patient": patient, "encounter": encounter}
        claims.update({k: v for k, v in context.items() if v})
        if purpose_of_use:
            claims["purpose_of_use"] = list(purpose_of_use)
        return await self._sign(claims, "at+jwt"), claims

    async def id_token(self, *, client_id: str, subject: str, fhir_user: str | None,
                       nonce: str | None, lifetime: int) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.endpoints.issuer, "aud": client_id,
                                  "sub": subject, "iat": now, "exp": now + lifetime,
                                  "auth_time": now}
        if fhir_user:
            claims["fhirUser"] = f"{self.endpoints.fhir_base}/{fhir_user}"
        if nonce:
            claims["nonce"] = nonce
        return await self._sign(claims, "JWT")

    async def decode(self, token: str) -> dict[str, Any]:
        """The claims of one of this server's access tokens, signature and times checked."""
        header, _ = unverified_parts(token)
        keys = await self.keys.verification_keys(header.get("kid"))
        try:
            decoded = jwt.decode(token, keys, algorithms=[SIGNING_ALGORITHM])
            JWTClaimsRegistry(
                leeway=_LEEWAY,
                iss={"essential": True, "value": self.endpoints.issuer},
                aud={"essential": True, "value": self.endpoints.fhir_base},
                exp={"essential": True}, jti={"essential": True},
                client_id={"essential": True}, scope={"essential": True},
            ).validate(decoded.claims)
        except JoseError as error:
            raise InvalidToken(_describe(error)) from None
        if decoded.header.get("typ") != "at+jwt":
            raise InvalidToken("not an access token")
        if await self.records.revoked(decoded.claims["jti"]):
            raise InvalidToken("the token was revoked")
        return decoded.claims

    async def verify(self, token: str) -> AccessContext:
        return context_of(await self.decode(token))

    async def revoke(self, claims: dict[str, Any]) -> None:
        expires = datetime.fromtimestamp(int(claims["exp"]) + _LEEWAY, UTC)
        await self.records.revoke(claims["jti"], expires)

    async def revoke_id(self, jti: str, exp: int) -> None:
        await self.revoke({"jti": jti, "exp": exp})


def context_of(claims: dict[str, Any]) -> AccessContext:
    purpose = claims.get("purpose_of_use") or ()
    return AccessContext(
        client_id=str(claims["client_id"]), scopes=parse_scopes(str(claims["scope"])),
        kind=str(claims.get("kind", "user")), subject=str(claims.get("sub", "")),
        issuer=str(claims["iss"]), expires_at=int(claims["exp"]),
        fhir_user=claims.get("fhirUser"), patient=claims.get("patient"),
        encounter=claims.get("encounter"),
        purpose_of_use=tuple(str(p) for p in purpose) if isinstance(purpose, list) else (),
        token_id=claims.get("jti"),
    )


def _describe(error: JoseError) -> str:
    name = type(error).__name__
    if name == "ExpiredTokenError":
        return "the token has expired"
    if name == "BadSignatureError":
        return "the token signature is invalid"
    if name in ("InvalidClaimError", "MissingClaimError"):
        return f"the token is not valid here: {error.description or error}"
    return f"the token is invalid ({error.description or name})"
