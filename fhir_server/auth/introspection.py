"""Token introspection (RFC 7662, SMART "Token Introspection") and revocation (RFC 7009).

Both endpoints take an authenticated confidential client; introspection also accepts a
valid bearer access token, so a resource server without credentials of its own can ask.
A client may revoke only tokens issued to it; revocation always answers 200.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError, OAuth2Error
from starlette.requests import Request
from starlette.responses import Response

from .oauth_http import auth_of, oauth_error, oauth_json, read_form
from .registry import Client
from .service import AuthService
from .tokens import InvalidToken

__all__ = ["introspect", "revoke"]

_CLAIMS = ("scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti", "fhirUser",
           "patient", "encounter", "purpose_of_use")


async def _caller(request: Request, auth: AuthService, form: dict[str, str]) -> Client | None:
    """The authenticated client, or None when a bearer token vouches for the caller."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        try:
            await auth.tokens.decode(value.strip())
        except InvalidToken:
            error = InvalidClientError(description="invalid bearer token")
            error.status_code = 401
            raise error from None
        return None
    client = await auth.clients.authenticate(request, form)
    if client.public:
        raise InvalidClientError(description="public clients cannot introspect or revoke")
    return client


async def introspect(request: Request) -> Response:
    auth: AuthService = auth_of(request)
    try:
        form = await read_form(request)
        await _caller(request, auth, form)
        token = form.get("token")
        if not token:
            raise InvalidRequestError(description="missing 'token'")
    except OAuth2Error as error:
        return oauth_error(request, error)
    return oauth_json(request, await _describe(auth, token))


async def _describe(auth: AuthService, token: str) -> dict[str, Any]:
    try:
        claims = await auth.tokens.decode(token)
    except InvalidToken:
        refresh = await auth.store.refresh_token(token)
        if refresh is None:
            return {"active": False}
        grant = refresh["grant"]
        return {"active": True, "token_type": "refresh_token", "scope": grant["scope"],
                "client_id": grant["client_id"], "sub": grant.get("subject"),
                "exp": int(refresh["expiresAt"].timestamp())}
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
    refresh = await auth.store.refresh_token(token)
    if refresh is not None and refresh["grant"]["client_id"] == client.client_id:
        await auth.store.revoke_refresh(token)
    else:
        try:
            claims = await auth.tokens.decode(token)
        except InvalidToken:
            claims = None
        if claims is not None and claims["client_id"] == client.client_id:
            await auth.tokens.revoke(claims)
    return oauth_json(request, {})
