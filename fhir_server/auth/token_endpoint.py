"""The token endpoint: authorization_code (+PKCE), refresh_token, client_credentials.

RFC 6749 sections 4.1.3, 4.4 and 6; PKCE per RFC 7636 section 4.6 (S256 only);
SMART App Launch 2.x "App Launch" step 5 for the response (``patient``, ``encounter``,
``fhirContext``, ``id_token``) and SMART Backend Services for client_credentials.
Refresh tokens rotate on every use, and a rotated-out one coming back revokes its grant's
tokens (:mod:`.refresh`, RFC 9700 section 4.14.2).
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.requests import Request
from starlette.responses import Response

from ..access.scopes import ScopeSet, grant, parse_scopes
from .oauth_http import auth_of, oauth_error, oauth_json, read_form
from .refresh import Reused
from .registry import Client
from .service import AuthService

__all__ = ["token"]

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_REUSED = ("refresh token already used: every token of this grant is revoked (RFC 9700 "
           "section 4.14.2)")


async def token(request: Request) -> Response:
    auth: AuthService = auth_of(request)
    try:
        form = await read_form(request)
        client = await auth.clients.authenticate(request, form)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            body = await _authorization_code(auth, client, form)
        elif grant_type == "refresh_token":
            body = await _refresh_token(auth, client, form)
        elif grant_type == "client_credentials":
            body = await _client_credentials(auth, client, form)
        else:
            raise UnsupportedGrantTypeError(str(grant_type or "")[:60])
    except OAuth2Error as error:
        return oauth_error(request, error)
    return oauth_json(request, body)


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise InvalidRequestError(description=f"missing '{name}'")
    return value


async def _authorization_code(auth: AuthService, client: Client,
                              form: dict[str, str]) -> dict[str, Any]:
    code = _required(form, "code")
    doc = await auth.store.redeem_code(code)
    if doc is None:
        raise InvalidGrantError(description="unknown or expired authorization code")
    granted = doc["grant"]
    if doc["used"]:
        await _revoke_issued(auth, doc)
        raise InvalidGrantError(description="authorization code already used; the tokens "
                                            "it gave out are revoked")
    if granted["client_id"] != client.client_id:
        raise InvalidGrantError(description="the code was issued to another client")
    if form.get("redirect_uri") != granted["redirect_uri"]:
        raise InvalidGrantError(description="redirect_uri does not match the authorization "
                                            "request")
    _check_pkce(granted.get("code_challenge"), form.get("code_verifier"))
    body, issued = await _access_response(auth, granted)
    scopes = parse_scopes(granted["scope"])
    if _refreshable(scopes):
        body["refresh_token"] = await auth.refresh.start(
            _kept(granted, scopes), _refresh_expiry(auth, scopes), doc["_id"], issued)
    await auth.store.record_issued(code, issued)
    return body


def _check_pkce(challenge: str | None, verifier: str | None) -> None:
    if challenge is None:
        return
    if not verifier:
        raise InvalidGrantError(description="missing code_verifier (PKCE)")
    if not _VERIFIER.match(verifier) or not hmac.compare_digest(
        create_s256_code_challenge(verifier), challenge
    ):
        raise InvalidGrantError(description="code_verifier does not match the code_challenge")


async def _revoke_issued(auth: AuthService, doc: dict[str, Any]) -> None:
    issued = doc.get("issued") or {}
    if issued.get("jti"):
        await auth.tokens.revoke_id(issued["jti"], issued["exp"])
    await auth.refresh.revoke_of_code(doc["_id"])


async def _refresh_token(auth: AuthService, client: Client,
                         form: dict[str, str]) -> dict[str, Any]:
    """RFC 6749 section 6, with rotation and reuse detection (RFC 9700 section 4.14.2).

    Everything that can refuse the request is checked before the token is used, so a
    refused refresh leaves it usable; a token already rotated out revokes its family."""
    family = await auth.refresh.find(_required(form, "refresh_token"))
    if family is None or family.client_id != client.client_id:
        raise InvalidGrantError(description="unknown or expired refresh token")
    if not family.current:
        await auth.refresh.revoke(family)
        raise InvalidGrantError(description=_REUSED)
    granted = family.grant
    if granted.get("session") and not await auth.store.session_alive(granted["session"]):
        raise InvalidGrantError(description="online_access ended with the user's session")
    if form.get("scope"):
        granted["scope"] = str(_narrower(parse_scopes(form["scope"]),
                                         parse_scopes(granted["scope"])))
    body, issued = await _access_response(auth, granted)
    try:
        refresh_token = await auth.refresh.rotate(
            family, granted, issued, another=_refreshable(parse_scopes(granted["scope"])))
    except Reused:
        raise InvalidGrantError(description=_REUSED) from None
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    return body


def _narrower(requested: ScopeSet, original: ScopeSet) -> ScopeSet:
    """RFC 6749 section 6: a refresh may ask for less than the original grant, never more."""
    narrowed = grant(requested, original, {"patient", "user"})
    missing = [str(s) for s in requested.resources
               if not any(s.narrowed_by(o) == s for o in original.resources)]
    missing += [t for t in requested.others if t not in original.others]
    if missing:
        raise InvalidScopeError(description="scope beyond the original grant: "
                                            + " ".join(missing)[:300])
    return narrowed


async def _client_credentials(auth: AuthService, client: Client,
                              form: dict[str, str]) -> dict[str, Any]:
    if client.public:
        raise UnauthorizedClientError(description="public clients cannot use "
                                                  "client_credentials")
    requested = parse_scopes(_required(form, "scope"))
    granted = grant(requested, parse_scopes(client.scope), {"system"})
    if not granted.resources:
        raise InvalidScopeError(description="none of the requested scopes is a system/ "
                                            "scope this client is registered for")
    lifetime = min(auth.options.access_token_seconds, 3600)
    access_token, _ = await auth.tokens.access_token(
        client_id=client.client_id, scopes=granted, kind="backend",
        subject=client.client_id, lifetime=lifetime,
    )
    return {"access_token": access_token, "token_type": "Bearer", "expires_in": lifetime,
            "scope": str(granted)}


async def _access_response(auth: AuthService, granted: dict[str, Any]
                           ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The token response for an authorization grant (without its refresh token), and
    the access token it gave out (``{jti, exp}``)."""
    scopes = parse_scopes(granted["scope"])
    lifetime = auth.options.access_token_seconds
    access_token, claims = await auth.tokens.access_token(
        client_id=granted["client_id"], scopes=scopes, kind="user",
        subject=granted["subject"], lifetime=lifetime, fhir_user=granted.get("fhir_user"),
        patient=granted.get("patient"), encounter=granted.get("encounter"),
    )
    body: dict[str, Any] = {"access_token": access_token, "token_type": "Bearer",
                            "expires_in": lifetime, "scope": str(scopes)}
    for name in ("patient", "encounter"):
        if granted.get(name):
            body[name] = granted[name]
    if granted.get("encounter"):
        body["fhirContext"] = [{"reference": f"Encounter/{granted['encounter']}"}]
    if "openid" in scopes:
        body["id_token"] = await auth.tokens.id_token(
            client_id=granted["client_id"], subject=granted["subject"],
            fhir_user=granted.get("fhir_user") if "fhirUser" in scopes or "profile" in scopes
            else None, nonce=granted.get("nonce"), lifetime=lifetime)
    return body, {"jti": claims["jti"], "exp": claims["exp"]}


def _refreshable(scopes: ScopeSet) -> bool:
    return "offline_access" in scopes or "online_access" in scopes


def _kept(granted: dict[str, Any], scopes: ScopeSet) -> dict[str, Any]:
    """What a refresh token family remembers of the grant; an offline grant outlives the
    sign-in session."""
    kept = {k: v for k, v in granted.items() if k not in ("code_challenge", "nonce")}
    if "offline_access" in scopes:
        kept.pop("session", None)
    return kept


def _refresh_expiry(auth: AuthService, scopes: ScopeSet) -> datetime:
    seconds = (auth.options.offline_refresh_seconds if "offline_access" in scopes
               else auth.options.online_refresh_seconds)
    return datetime.now(UTC) + timedelta(seconds=seconds)
