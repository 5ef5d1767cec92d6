"""Per-request consent context and audit (a pure ASGI middleware inside the bearer one).

For an authenticated FHIR request: the purpose of use (``X-Purpose-Of-Use``, a v3
PurposeOfUse code within what the token was granted; else the token's first
``purpose_of_use``; else ``TREAT``), break-glass (``X-Break-Glass-Reason`` with purpose
``ETREAT`` or ``BTG``, for practitioners whose role the deployment allows), then the
request runs with :data:`~.context.current_privacy` set. When the response starts, one
AuditEvent is appended to the audit trail (before the client sees anything; if it cannot
be written, the client gets 503 instead of unaudited data). Break-glass responses carry
``X-Break-Glass: override``.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

from pymongo.errors import PyMongoError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consent import BREAK_GLASS_PURPOSES, purpose_codes
from consent.codes import purpose_covers

from .. import clock
from ..audit import AccessRecord, append, audit_event
from ..auth.context import ACCESS_KEY, AccessContext
from ..auth.interactions import interaction_of
from ..errors import FhirError, Forbidden, InvalidRequest
from ..rest.responses import error_response
from .context import Privacy, PrivacyRequest, current_privacy

__all__ = ["ConsentAndAudit", "open_request"]

log = logging.getLogger("fhir_server.audit")
_REASON = re.compile(r"^[^\x00-\x1f\x7f]{1,500}$")
_PUBLIC = ("/fhir/metadata", "/fhir/.well-known/")


def _purpose(request: Request, access: AccessContext) -> str:
    header = request.headers.get("x-purpose-of-use")
    granted = access.purpose_of_use
    if header is None:
        return granted[0] if granted else "TREAT"
    code = header.strip().rsplit("|", 1)[-1]
    if code not in purpose_codes():
        raise InvalidRequest(f"X-Purpose-Of-Use '{code[:40]}' is not a v3 PurposeOfUse code")
    if granted and not any(purpose_covers(g, code) for g in granted):
        raise Forbidden(f"The access token was not granted purpose of use {code} "
                        f"(granted: {', '.join(granted)})")
    return code


async def _break_glass(privacy: PrivacyRequest, reason: str | None) -> None:
    if reason is None and privacy.purpose != "BTG":
        return
    if privacy.purpose not in BREAK_GLASS_PURPOSES:
        raise InvalidRequest("X-Break-Glass-Reason needs purpose of use ETREAT or BTG "
                             "(X-Purpose-Of-Use)")
    if reason is None or not _REASON.match(reason.strip()):
        raise InvalidRequest("Break-glass needs a reason: X-Break-Glass-Reason, 1 to 500 "
                             "printable characters")
    actor = await privacy.actor(memberships=True)
    user = privacy.access.fhir_user or ""
    practitioner = user.split("/")[-2:-1] in (["Practitioner"], ["PractitionerRole"])
    if not privacy.privacy.policy.may_break_glass({code for _, code in actor.roles},
                                                  practitioner):
        raise Forbidden("Break-glass is not allowed for your role in this deployment")
    privacy.break_glass_reason = reason.strip()
    privacy.override = True


async def open_request(privacy: Privacy, access: AccessContext, request: Request,
                       interaction: str) -> PrivacyRequest:
    """The consent context of a request, purpose and break-glass checked."""
    opened = PrivacyRequest(privacy, access, interaction, clock.now(),
                            _purpose(request, access))
    await _break_glass(opened, request.headers.get("x-break-glass-reason"))
    return opened


def _subtype(interaction: str, resource_type: str | None, segments: list[str]) -> str:
    if interaction == "search":
        return "search-type" if resource_type else "search-system"
    if interaction == "history":
        return ("history-instance" if len(segments) == 3 else
                "history-type" if resource_type else "history-system")
    if interaction == "transaction":
        return "transaction"
    return interaction


class ConsentAndAudit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        access = scope.get("state", {}).get(ACCESS_KEY) if scope["type"] == "http" else None
        if access is None or scope["path"].startswith(_PUBLIC):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        segments = [unquote(s) for s in scope["path"].split("/")[2:] if s]
        method = "GET" if request.method == "HEAD" else request.method
        interaction, resource_type = interaction_of(method, segments)
        privacy: Privacy = scope["app"].state.privacy
        try:
            opened = await open_request(privacy, access, request, interaction)
        except FhirError as error:
            opened = PrivacyRequest(privacy, access, interaction, clock.now(), "TREAT")
            response = error_response(error, request)
            await self._audit(scope, opened, request, segments, resource_type,
                              response.status_code)
            await response(scope, receive, send)
            return
        token = current_privacy.set(opened)
        try:
            await self.app(scope, receive, self._audited(scope, send, opened, request,
                                                         segments, resource_type))
        finally:
            current_privacy.reset(token)

    def _audited(self, scope: Scope, send: Send, opened: PrivacyRequest, request: Request,
                 segments: list[str], resource_type: str | None) -> Send:
        failed = False

        async def wrapped(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start":
                try:
                    await self._audit(scope, opened, request, segments, resource_type,
                                      message["status"])
                except PyMongoError:
                    log.exception("could not write the AuditEvent of %s %s", request.method,
                                  request.url.path)
                    failed = True
                    await _unavailable(request, send)
                    return
                if opened.override:
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"x-break-glass", b"override")]}
            if not failed:
                await send(message)

        return wrapped

    async def _audit(self, scope: Scope, opened: PrivacyRequest, request: Request,
                     segments: list[str], resource_type: str | None, status: int) -> None:
        access = opened.access
        patients = {p for d in opened.decisions for p in d.patients}
        if access.patient:
            patients.add(access.patient)
        if not opened.all_loaded:
            patients |= opened.loaded
        query = request.url.query or None
        record = AccessRecord(
            subtype=_subtype(opened.interaction, resource_type, segments),
            method=request.method, url=request.url.path + (f"?{query}" if query else ""),
            status=status, purpose=opened.purpose, client=access.client_id,
            actor=access.fhir_user, token_id=access.token_id,
            query=query if opened.interaction == "search" else None,
            break_glass_reason=opened.break_glass_reason, patients=patients,
            decisions=list(opened.decisions))
        services: Any = scope["app"].state.services
        await append(services.db, audit_event(record), services.repository.indexer)


async def _unavailable(request: Request, send: Send) -> None:
    from ..rest.app import ServiceUnavailable

    response = error_response(ServiceUnavailable(
        "The access could not be audited; try again"), request)
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
