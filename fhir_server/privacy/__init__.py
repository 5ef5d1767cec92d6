"""Consent-enforced access and the audit trail, wired into the server.

``install(app, settings)`` adds, always: the repository guard that keeps AuditEvents
append-only; with ``--auth smart``: the consent-and-audit middleware (inside the bearer
token one), consent checks on reads (the guard), and the indexes consent decisions read
through. With ``--auth off`` there is no actor, so Consents are not applied and no
AuditEvents are written (local development stays open; see ``docs/consent.md``).

Hooks other modules call: :func:`with_consent` (the search restriction),
:func:`check_history` (history), :func:`disclose` (responses).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware

from consent import ConsentPolicy

from ..config import Settings
from .context import Privacy, current_privacy
from .enforce import PrivacyGuard, check_history, disclose, with_consent

__all__ = ["install", "with_consent", "check_history", "disclose",
           "current_privacy", "Privacy"]


def install(app: Starlette, settings: Settings) -> None:
    """Wire consent enforcement and auditing into the app (after ``auth.install``)."""
    from ..audit import ensure_indexes as audit_indexes
    from .matcher import IndexMatcher
    from .middleware import ConsentAndAudit
    from .paths import r4_paths
    from .store import ensure_indexes

    app.state.consent_policy = ConsentPolicy.from_environment()
    if settings.auth == "smart":
        app.user_middleware.append(Middleware(ConsentAndAudit))
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with original(application) as state:
            services = application.state.services
            services.repository.guard = PrivacyGuard(services.repository.guard)
            await audit_indexes(services.db)
            if settings.auth == "smart":
                await ensure_indexes(services.db)
                matcher = IndexMatcher(services.base, r4_paths(services.base),
                                       services.search.index)
                application.state.privacy = Privacy(services.db, services.base, matcher,
                                                    application.state.consent_policy)
            yield state

    app.router.lifespan_context = lifespan
