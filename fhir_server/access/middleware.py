"""The access middleware (pure ASGI, inside the bearer-token one): every request under the
FHIR base gets its :class:`~.policy.AccessPolicy` here, once, before any handler runs.

With ``--auth smart``, when the response starts, the request's AuditEvents (one per
patient touched, see :mod:`.audit_events`) are appended to the audit trail before the
client sees anything; if they cannot be written, the client gets 503 instead of
unaudited data. Break-glass responses carry ``X-Break-Glass: override``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

from pymongo.errors import PyMongoError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import FhirError, ServiceUnavailable
from ..rest.responses import error_response
from .audit_events import AccessRecord, audit_events
from .interactions import interaction_of
from .policy import SYSTEM, AccessPolicy, RequestPolicy
from .request import POLICY_KEY, AccessService

__all__ = ["AccessControl"]

log = logging.getLogger("fhir_server.audit")
_PUBLIC = ("/fhir/metadata", "/fhir/.well-known/")


def _subtype(interaction: str, resource_type: str | None, segments: list[str]) -> str:
    if interaction == "search":
        return "search-type" if resource_type else "search-system"
    if interaction == "history":
        return ("history-instance" if len(segments) == 3 else
                "history-type" if resource_type else "history-system")
    return interaction


class AccessControl:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/fhir" or path.startswith("/fhir/")):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if path.startswith(_PUBLIC):
            state[POLICY_KEY] = SYSTEM
            await self.app(scope, receive, send)
            return
        service: AccessService = scope["app"].state.services.access
        request = Request(scope)
        try:
            policy = await service.for_request(request)
        except FhirError as error:
            response = error_response(error, request)
            await self._audit(scope, request, None, response.status_code)
            await response(scope, receive, send)
            return
        state[POLICY_KEY] = policy
        if not isinstance(policy, RequestPolicy):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, self._audited(scope, send, request, policy))

    def _audited(self, scope: Scope, send: Send, request: Request,
                 policy: RequestPolicy) -> Send:
        failed = False

        async def wrapped(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start":
                try:
                    await self._audit(scope, request, policy, message["status"])
                except PyMongoError:
                    log.exception("could not write the AuditEvents of %s %s",
                                  request.method, request.url.path)
                    failed = True
                    await _unavailable(request, send)
                    return
                if policy.consent is not None and policy.consent.override:
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"x-break-glass", b"override")]}
            if not failed:
                await send(message)

        return wrapped

    async def _audit(self, scope: Scope, request: Request, policy: AccessPolicy | None,
                     status: int) -> None:
        """Append the request's AuditEvents (with a token; none with ``--auth off``)."""
        if not isinstance(policy, RequestPolicy):
            access = scope.get("state", {}).get("access")
            if access is None:
                return
            service: AccessService = scope["app"].state.services.access
            policy = service.for_token(access, "TREAT")
        context = policy.token.context
        view = policy.consent
        segments = [unquote(s) for s in request.url.path.split("/")[2:] if s]
        method = "GET" if request.method == "HEAD" else request.method
        interaction, resource_type = interaction_of(method, segments)
        patients = set(policy.touched) | {p for d in policy.decisions for p in d.patients}
        if context.patient:
            patients.add(context.patient)
        query = request.url.query or None
        record = AccessRecord(
            subtype=_subtype(interaction, resource_type, segments), method=request.method,
            url=request.url.path + (f"?{query}" if query else ""), status=status,
            purpose=view.purpose if view else "TREAT", client=context.client_id,
            actor=context.fhir_user, token_id=context.token_id,
            query=query if interaction == "search" else None,
            break_glass_reason=view.break_glass_reason if view else None,
            patients=patients, decisions=list(policy.decisions))
        storage: Any = scope["app"].state.services.storage
        await storage.audit.append_all(audit_events(record))


async def _unavailable(request: Request, send: Send) -> None:
    response = error_response(ServiceUnavailable(
        "The access could not be audited; try again"), request)
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
