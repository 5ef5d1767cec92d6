"""Accepting access tokens from an external OpenID Connect provider.

Configured with ``FHIR_AUTH_EXTERNAL_ISSUER`` and ``FHIR_AUTH_EXTERNAL_JWKS_URL`` (see
``options``). A token from that issuer is accepted when its signature checks against the
issuer's JWKS, ``exp`` is in the future and ``aud`` names this server
(``FHIR_AUTH_EXTERNAL_AUDIENCE``, by default the FHIR base). Its scopes, patient and
fhirUser come from configurable claims, so an identity provider that cannot mint SMART
claims can still say which patient a person is.
"""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from ..access.identity import AccessContext
from ..access.scopes import parse_scopes
from .jwks import RemoteJwks
from .options import ExternalIssuer
from .tokens import InvalidToken

__all__ = ["ExternalTokens"]

_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "ES256", "ES384"]
_LEEWAY = 30


def _relative(reference: Any, fhir_base: str) -> str | None:
    if not isinstance(reference, str) or not reference:
        return None
    if reference.startswith(fhir_base + "/"):
        return reference[len(fhir_base) + 1:]
    return reference


class ExternalTokens:
    def __init__(self, config: ExternalIssuer, remote: RemoteJwks) -> None:
        self.config = config
        self.remote = remote

    def issues(self, claims: dict[str, Any]) -> bool:
        return str(claims.get("iss", "")).rstrip("/") == self.config.issuer

    async def verify(self, token: str, header: dict[str, Any], fhir_base: str) -> AccessContext:
        try:
            jwks = await self.remote.fetch(self.config.jwks_url, header.get("kid"))
        except ValueError as error:
            raise InvalidToken(f"cannot check the issuer's keys: {error}") from None
        audience = self.config.audience or fhir_base
        try:
            decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=_ALGORITHMS)
            JWTClaimsRegistry(leeway=_LEEWAY, exp={"essential": True},
                              aud={"essential": True, "value": audience}
                              ).validate(decoded.claims)
        except JoseError as error:
            raise InvalidToken(f"external token rejected: {error.description or error}"
                               ) from None
        return self._context(decoded.claims, fhir_base)

    def _context(self, claims: dict[str, Any], fhir_base: str) -> AccessContext:
        scope = claims.get(self.config.scope_claim, "")
        if isinstance(scope, list):
            scope = " ".join(str(s) for s in scope)
        patient = _relative(claims.get(self.config.patient_claim), fhir_base)
        if patient and patient.startswith("Patient/"):
            patient = patient[len("Patient/"):]
        client_id = claims.get("client_id") or claims.get("azp") or claims.get("cid") or ""
        return AccessContext(
            client_id=str(client_id), scopes=parse_scopes(str(scope)), kind="external",
            subject=str(claims.get("sub", "")), issuer=str(claims["iss"]),
            expires_at=int(claims["exp"]),
            fhir_user=_relative(claims.get(self.config.fhir_user_claim), fhir_base),
            patient=patient, token_id=claims.get("jti"),
        )
