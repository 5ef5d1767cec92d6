"""Bearer token authentication for the FHIR API (a pure ASGI middleware).

Every request under ``/fhir`` except the CapabilityStatement and SMART discovery must
carry ``Authorization: Bearer <token>`` (RFC 6750 section 2.1). A missing, expired,
revoked, tampered or foreign token is answered 401 with an OperationOutcome and a
``WWW-Authenticate: Bearer`` challenge (section 3). A valid one becomes the request's
:class:`AccessContext` (``request.state.access``), from which :mod:`fhir_server.access`
builds the request's policy. CORS headers are added for browser apps.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..access.identity import ACCESS_KEY, AccessContext
from ..errors import Unauthorized
from ..rest.responses import error_response
from .oauth_http import cors_headers, preflight
from .tokens import InvalidToken, unverified_parts

__all__ = ["BearerAuthentication"]

_PUBLIC = {"/fhir/metadata", "/fhir/.well-known/smart-configuration"}
_CORS_PATHS = ("/fhir", "/.well-known/", "/auth/token", "/auth/jwks", "/auth/introspect",
               "/auth/revoke")
_UNSAFE = re.compile(r'["\\\r\n]')


def _challenge(realm: str, error: str | None, description: str | None) -> str:
    parts = [f'realm="{realm}"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append(f'error_description="{_UNSAFE.sub(" ", description)[:200]}"')
    return "Bearer " + ", ".join(parts)


class BearerAuthentication:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        request = Request(scope)
        if path.startswith(_CORS_PATHS) and request.method == "OPTIONS" and request.headers.get(
                "origin"):
            await preflight(request)(scope, receive, send)
            return
        send = _with_cors(request, send) if path.startswith(_CORS_PATHS) else send
        if not (path == "/fhir" or path.startswith("/fhir/")) or path in _PUBLIC:
            await self.app(scope, receive, send)
            return
        try:
            context = await self._authenticate(scope, request)
        except Unauthorized as error:
            await error_response(error, request)(scope, receive, send)
            return
        scope.setdefault("state", {})[ACCESS_KEY] = context
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope, request: Request) -> AccessContext:
        auth = scope["app"].state.auth
        realm = auth.endpoints.fhir_base
        header = Headers(scope=scope).get("authorization", "")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise Unauthorized("An access token is required (Authorization: Bearer ...)",
                               headers={"WWW-Authenticate": _challenge(realm, None, None)})
        try:
            return await _verify(auth, token.strip())
        except InvalidToken as error:
            raise Unauthorized(f"The access token was refused: {error}", headers={
                "WWW-Authenticate": _challenge(realm, "invalid_token", str(error))}) from None


async def _verify(auth: Any, token: str) -> AccessContext:
    header, claims = unverified_parts(token)
    if auth.external is not None and auth.external.issues(claims):
        return await auth.external.verify(token, header, auth.endpoints.fhir_base)
    return await auth.tokens.verify(token)


def _with_cors(request: Request, send: Send) -> Send:
    extra = [(k.lower().encode(), v.encode()) for k, v in cors_headers(request).items()]
    if not extra:
        return send

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            names = {name for name, _ in message.get("headers", [])}
            message = {**message, "headers": [*message.get("headers", []),
                                              *[h for h in extra if h[0] not in names]]}
        await send(message)

    return wrapped
