"""Authenticating a client at the token, introspection and revocation endpoints.

Methods (RFC 6749 section 2.3, OpenID Connect Core section 9):
``client_secret_basic``, ``client_secret_post``, ``private_key_jwt`` (RFC 7523, as SMART
Backend Services and SMART's asymmetric client authentication profile it:
https://hl7.org/fhir/smart-app-launch/client-confidential-asymmetric.html) and ``none``
for public clients. Assertions are RS384 or ES384, ``iss`` = ``sub`` = client_id,
``aud`` = the token endpoint, ``exp`` at most five minutes ahead, and a ``jti`` never seen
before (remembered until the assertion expires: RFC 7523 section 3).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from authlib.oauth2.rfc6749.errors import InvalidClientError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from starlette.requests import Request

from .jwks import RemoteJwks
from .registry import Client, Registry, verify_secret
from .tokens import InvalidToken, unverified_parts

if TYPE_CHECKING:
    from ..storage.auth_tokens import TokenRecords

__all__ = ["ClientAuthenticator", "ASSERTION_TYPE", "ASSERTION_ALGORITHMS"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ["RS384", "ES384"]
_LEEWAY = 30


def _invalid_client(description: str) -> InvalidClientError:
    error = InvalidClientError(description=description)
    error.status_code = 401
    return error


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client("malformed HTTP Basic credentials") from None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise _invalid_client("malformed HTTP Basic credentials")
    return unquote(client_id), unquote(secret)


class ClientAuthenticator:
    def __init__(self, records: TokenRecords, registry: Registry, remote: RemoteJwks,
                 token_endpoint: str, max_assertion_seconds: int) -> None:
        self.records = records
        self.registry = registry
        self.remote = remote
        self.token_endpoint = token_endpoint
        self.max_assertion_seconds = max_assertion_seconds

    async def authenticate(self, request: Request, form: Mapping[str, str]) -> Client:
        """The calling client; raises ``invalid_client`` when it cannot be authenticated."""
        basic = _basic_credentials(request)
        if basic is not None:
            return await self._with_secret(*basic)
        if form.get("client_assertion_type") or form.get("client_assertion"):
            return await self._with_assertion(form)
        client_id = form.get("client_id", "")
        if form.get("client_secret"):
            return await self._with_secret(client_id, form["client_secret"])
        client = await self.registry.client(client_id) if client_id else None
        if client is None:
            raise _invalid_client("unknown client; identify the client (client_id) "
                                  "and authenticate it")
        if not client.public:
            raise _invalid_client(f"client '{client_id}' is confidential and must "
                                  "authenticate (client secret or private_key_jwt)")
        return client

    async def _with_secret(self, client_id: str, secret: str) -> Client:
        client = await self.registry.client(client_id)
        if client is None or client.kind != "confidential-symmetric" or not verify_secret(
            secret, client.secret_hash
        ):
            raise _invalid_client("client authentication failed (unknown client or wrong "
                                  "secret)")
        return client

    async def _with_assertion(self, form: Mapping[str, str]) -> Client:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise _invalid_client(f"client_assertion_type must be {ASSERTION_TYPE}")
        assertion = form.get("client_assertion", "")
        try:
            header, claims = unverified_parts(assertion)
        except InvalidToken as error:
            raise _invalid_client(f"client_assertion: {error}") from None
        if header.get("alg") not in ASSERTION_ALGORITHMS:
            raise _invalid_client("client_assertion must be signed with RS384 or ES384")
        client_id = claims.get("iss")
        client = await self.registry.client(client_id) if isinstance(client_id, str) else None
        if client is None or client.kind != "confidential-asymmetric":
            raise _invalid_client("client_assertion: 'iss' is not a client registered "
                                  "for private_key_jwt")
        if form.get("client_id") not in (None, "", client.client_id):
            raise _invalid_client("client_id does not match the client_assertion issuer")
        jku = header.get("jku")
        if jku is not None and jku != client.jwks_url:
            raise _invalid_client("client_assertion 'jku' is not the registered JWKS URL")
        keys = await self._keys(client, header)
        claims = self._verify(assertion, keys, client.client_id)
        await self._remember(client.client_id, claims)
        return client

    async def _keys(self, client: Client, header: dict[str, Any]) -> list[Any]:
        kid = header.get("kid")
        if client.jwks is not None:
            jwks = client.jwks
        else:
            assert client.jwks_url is not None
            try:
                jwks = await self.remote.fetch(client.jwks_url, kid)
            except ValueError as error:
                raise _invalid_client(f"cannot fetch the client's JWKS: {error}") from None
        try:
            key_set = KeySet.import_key_set(jwks)
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise _invalid_client(f"the client's JWKS is unusable: {error}") from None
        keys = [k for k in key_set.keys if kid is None or k.kid == kid]
        if not keys:
            raise _invalid_client(f"no key with kid '{kid}' in the client's JWKS")
        return keys

    def _verify(self, assertion: str, keys: list[Any], client_id: str) -> dict[str, Any]:
        now = int(time.time())
        registry = JWTClaimsRegistry(
            leeway=_LEEWAY,
            iss={"essential": True, "value": client_id},
            sub={"essential": True, "value": client_id},
            aud={"essential": True, "value": self.token_endpoint},
            exp={"essential": True}, jti={"essential": True},
        )
        last: JoseError | None = None
        for key in keys:
            try:
                decoded = jwt.decode(assertion, key, algorithms=ASSERTION_ALGORITHMS)
            except JoseError as error:
                last = error
                continue
            try:
                registry.validate(decoded.claims)
            except JoseError as error:
                raise _invalid_client(f"client_assertion rejected: {error.description or error}"
                                      ) from None
            if int(decoded.claims["exp"]) > now + self.max_assertion_seconds + _LEEWAY:
                raise _invalid_client("client_assertion 'exp' is more than five minutes "
                                      "in the future")
            return decoded.claims
        detail = last.description if last is not None and last.description else "bad signature"
        raise _invalid_client(f"client_assertion signature is invalid ({detail})")

    async def _remember(self, client_id: str, claims: dict[str, Any]) -> None:
        expires = datetime.fromtimestamp(int(claims["exp"]) + _LEEWAY, UTC)
        if not await self.records.first_use_of_assertion(f"{client_id} {claims['jti']}",
                                                         expires):
            raise _invalid_client("client_assertion 'jti' was already used (replay)")

