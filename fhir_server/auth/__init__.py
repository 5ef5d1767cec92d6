"""SMART on FHIR: the built-in authorization server and scope enforcement.

``install(app, settings)`` adds, when ``settings.auth == "smart"``: the OAuth endpoints
under ``/auth/``, discovery under ``/.well-known/`` (and ``/fhir/.well-known/``), the
bearer-token middleware, the CapabilityStatement security section, and the repository's
access guard. With ``--auth off`` nothing is installed and ``enforce`` lets all through.

Other modules use: ``enforce`` (the router), ``access_context`` / ``AccessContext`` (who
is calling, with patient and purpose of use), ``search_restriction`` /
``restriction_of`` (the filter searches and their includes are ANDed with),
``check_history`` (history).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from ..config import Settings
from .context import AccessContext, access_context
from .enforce import AccessGuard, check_history, enforce
from .restriction import restriction_of, search_restriction

__all__ = ["install", "enforce", "access_context", "AccessContext", "check_history",
           "search_restriction", "restriction_of"]


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
    app.state.capability_hooks.append(capability_security)
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with original(application) as state:
            services = application.state.services
            auth = build_auth(settings, services.db)
            await auth.ensure_indexes()
            await auth.keys.keys()
            application.state.auth = auth
            services.repository.guard = AccessGuard(services.search, settings.fhir_base)
            yield state

    app.router.lifespan_context = lifespan
