"""How the parts around the core (SMART authorization, Bulk Data export, subscriptions, the
web app) plug into the application that :func:`fhir_server.rest.app.create_app` builds.

The app's lifespan opens the services; a part that needs them while the server runs (a
worker task, its indexes) adds a context of its own with :func:`run_in_lifespan`, entered
after everything added before it and left before it. A part adds to the
CapabilityStatement with :func:`add_to_capability`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request

__all__ = ["run_in_lifespan", "add_to_capability"]


def run_in_lifespan(app: Starlette,
                    part: Callable[[Starlette], AbstractAsyncContextManager[None]]) -> None:
    """Run ``part(app)`` for as long as the app runs, inside what its lifespan has so far."""
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Starlette) -> AsyncIterator[Any]:
        async with outer(application) as state, part(application):
            yield state

    app.router.lifespan_context = lifespan


def add_to_capability(app: Starlette,
                      hook: Callable[[Request, dict[str, Any]], None] | None = None,
                      *, instantiates: str | None = None) -> None:
    """``hook(request, rest)`` edits the CapabilityStatement's ``rest`` entry;
    ``instantiates`` names a CapabilityStatement this server implements (Bulk Data, the
    Subscriptions Backport)."""
    if hook is not None:
        app.state.capability_hooks.append(hook)
    if instantiates is not None:
        app.state.instantiates = [*getattr(app.state, "instantiates", []), instantiates]
