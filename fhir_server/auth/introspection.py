"""Token introspection (RFC 7662, SMART "Token Introspection") and revocation (RFC 7009).

Both endpoints take an authenticated confidential client; introspection also accepts a
valid bearer access token, so a resource server without credentials of its own can ask.

Who may learn what (RFC 7662 section 2.1: the server decides which protected resources
may introspect which tokens; section 2.2: a token the caller may not know about is
answered ``{"active": false}``, exactly as an unknown one):

* a client registered as a resource server (``fhir-server clients add --resource-server``)
  may introspect any token;
* any other confidential client only the tokens issued to itself;
* a caller vouched for by a bearer token only tokens issued to that token's client.

A client may revoke only tokens issued to it; revoking a refresh token revokes every
token of its grant (RFC 7009 section 2.1). Revocation always answers 200.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError, OAuth2Error
from starlette.requests import Request
from starlette.responses import Response

from .oauth_http import auth_of, oauth_error, oauth_json, read_form
from .service import AuthService
from .tokens import InvalidToken

__all__ = ["introspect", "revoke"]

_CLAIMS = ("scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti", "fhirUser",
           "patient", "encounter", "purpose_of_use")
_INACTIVE: dict[str, Any] = {"active": False}


@dataclass(frozen=True)
class Caller:
    """Who asks: a client (authenticated, or the client of a vouching bearer token), and
    whether it is a registered resource server."""

    client_id: str
    resource_server: bool

    def may_know(self, description: dict[str, Any]) -> bool:
        return self.resource_server or description.get("client_id") == self.client_id


async def _caller(request: Request, auth: AuthService, form: dict[str, str]) -> Caller:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        try:
            claims = await auth.tokens.decode(value.strip())
        except InvalidToken:
            error = InvalidClientError(description="invalid bearer token")
            error.status_code = 401
            raise error from None
        return Caller(str(claims["client_id"]), resource_server=False)
    client = await auth.clients.authenticate(request, form)
    if client.public:
        raise InvalidClientError(description="public clients cannot introspect or revoke")
    return Caller(client.client_id, client.resource_server)


async def introspect(request: Request) -> Response:
    auth: AuthService = auth_of(request)
    try:
        form = await read_form(request)
        caller = await _caller(request, auth, form)
        token = form.get("token")
        if not token:
            raise InvalidRequestError(description="missing 'token'")
    except OAuth2Error as error:
        return oauth_error(request, error)
    description = await _describe(auth, token)
    return oauth_json(request, description if caller.may_know(description) else _INACTIVE)


async def _describe(auth: AuthService, token: str) -> dict[str, Any]:
    try:
        claims = await auth.tokens.decode(token)
    except InvalidToken:
        family = await auth.refresh.find(token)
        if family is None or not family.current:
            return _INACTIVE
        grant = family.grant
        return {"active": True, "token_type": "refresh_token", "scope": grant["scope"],
                "client_id": family.client_id, "sub": grant.get("subject"),
                "exp": int(family.expires_at.timestamp())}
    body: dict[str, Any] = {"active": True, "token_type": "Bearer"}
    body.update({name: claims[name] for name in _CLAIMS if name in claims})
    return body


async def revoke(request: Request) -> Response:
    auth: AuthService = auth_of(request)
    try:
        form = await read_form(request)
        client = await auth.clients.authenticate(request, form)
        token = form.get("token")
        if not token:
            raise InvalidRequestError(description="missing 'token'")
    except OAuth2Error as error:
        return oauth_error(request, error)
    family = await auth.refresh.find(token)
    if family is not None:
        if family.client_id == client.client_id:
            await auth.refresh.revoke(family)
        return oauth_json(request, {})
    try:
        claims = await auth.tokens.decode(token)
    except InvalidToken:
        claims = None
    if claims is not None and claims["client_id"] == client.client_id:
        await auth.tokens.revoke(claims)
    return oauth_json(request, {})
