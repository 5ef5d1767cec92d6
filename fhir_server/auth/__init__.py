"""SMART on FHIR: the built-in authorization server and bearer-token authentication.

``install(app, settings)`` adds, when ``settings.auth == "smart"``: the OAuth endpoints
under ``/auth/``, discovery under ``/.well-known/`` (and ``/fhir/.well-known/``), the
bearer-token middleware and the CapabilityStatement security section. What a token may
see and do is decided by :mod:`fhir_server.access`, from the :class:`AccessContext` the
middleware attaches to the request (``access_context``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from ..access.identity import AccessContext, access_context
from ..config import Settings
from ..rest.plugins import add_to_capability, run_in_lifespan

__all__ = ["install", "access_context", "AccessContext"]


def _routes() -> list[Route]:
    from .authorize import authorize, consent, consent_page, login
    from .discovery import jwks, openid_configuration, smart_configuration
    from .introspection import introspect, revoke
    from .token_endpoint import token

    return [
        Route("/.well-known/smart-configuration", smart_configuration, methods=["GET"]),
        Route("/fhir/.well-known/smart-configuration", smart_configuration, methods=["GET"]),
        Route("/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route("/auth/jwks", jwks, methods=["GET"]),
        Route("/auth/authorize", authorize, methods=["GET", "POST"]),
        Route("/auth/login", login, methods=["POST"]),
        Route("/auth/consent", consent_page, methods=["GET"]),
        Route("/auth/consent", consent, methods=["POST"]),
        Route("/auth/token", token, methods=["POST"]),
        Route("/auth/introspect", introspect, methods=["POST"]),
        Route("/auth/revoke", revoke, methods=["POST"]),
    ]


def install(app: Starlette, settings: Settings) -> None:
    """Wire SMART authorization into the app (only with ``--auth smart``)."""
    if settings.auth != "smart":
        return
    from .discovery import capability_security
    from .middleware import BearerAuthentication
    from .service import build_auth

    app.router.routes[0:0] = _routes()
    app.add_middleware(BearerAuthentication)
    add_to_capability(app, capability_security)

    @asynccontextmanager
    async def authorization(application: Starlette) -> AsyncIterator[None]:
        auth = build_auth(settings, application.state.services.storage.auth)
        await auth.ensure_indexes()
        await auth.keys.keys()
        application.state.auth = auth
        yield

    run_in_lifespan(app, authorization)
