"""The web app for patients and clinicians, served at ``/app`` (``docs/web-app.md``).

A SMART on FHIR app (public client :data:`CLIENT_ID`, authorization code with PKCE) whose
pages are static files: ES modules, the vendored Chart.js and fonts, and translations as
JSON. The browser signs in through this server's own authorization endpoint and calls the
FHIR API with the user's token, so the access policy decides what it shows exactly as for
any other client. The only data the server adds is reference data: the WHO growth curves
(:mod:`.growth_curves`).

``install(app, settings)`` adds the routes (before the catch-all) and, with ``--auth
smart``, registers the app's client at startup (:mod:`.registration`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from ..config import Settings
from ..rest.plugins import run_in_lifespan
from .registration import CLIENT_ID, register_web_app
from .routes import routes

__all__ = ["install", "CLIENT_ID", "app_url"]


def app_url(settings: Settings) -> str:
    """Where people open the app."""
    base = settings.fhir_base
    return f"{base.removesuffix('/fhir')}/app/"


def install(app: Starlette, settings: Settings) -> None:
    app.router.routes[0:0] = routes()
    if settings.auth != "smart":
        return

    @asynccontextmanager
    async def registration(application: Starlette) -> AsyncIterator[None]:
        auth = application.state.auth
        await register_web_app(auth.registry, auth.endpoints.issuer)
        yield

    run_in_lifespan(app, registration)
