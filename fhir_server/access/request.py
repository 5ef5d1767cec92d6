"""Building one request's :class:`~.policy.AccessPolicy`, once, from its access token.

The purpose of use is ``X-Purpose-Of-Use`` (a v3 PurposeOfUse code within what the token
was granted), else the token's first ``purpose_of_use``, else ``TREAT``. Break-glass is
``X-Break-Glass-Reason`` with purpose ``ETREAT`` or ``BTG``, for practitioners whose role
the deployment allows; it lifts Consent restrictions (never the token's scopes) and is
audited. With ``--auth off`` every request gets the unrestricted policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from consent import BREAK_GLASS_PURPOSES, ConsentPolicy, Matcher, purpose_codes
from consent.codes import purpose_covers

from .. import clock
from ..errors import Forbidden, InvalidRequest
from .consent import ConsentSource, ConsentView
from .identity import AccessContext, access_context
from .policy import SYSTEM, AccessPolicy, RequestPolicy
from .token import QueryCompiler, TokenRules, require_token

__all__ = ["AccessService", "policy_of", "POLICY_KEY"]

POLICY_KEY = "access_policy"
_REASON = re.compile(r"^[^\x00-\x1f\x7f]{1,500}$")


def _purpose(header: str | None, access: AccessContext) -> str:
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


@dataclass(frozen=True)
class AccessService:
    """What every request's policy is built from (one per running server)."""

    base: str
    auth_on: bool
    source: ConsentSource
    matcher: Matcher
    consent_policy: ConsentPolicy
    compile_query: QueryCompiler

    def consent_view(self, access: AccessContext, purpose: str) -> ConsentView:
        return ConsentView(self.source, self.base, self.matcher, self.consent_policy, access,
                           clock.now(), purpose)

    def for_token(self, access: AccessContext, purpose: str) -> RequestPolicy:
        """A token's policy without HTTP (export jobs run later by a worker)."""
        return RequestPolicy(TokenRules(access, self.base, self.compile_query),
                             self.consent_view(access, purpose), self.base)

    async def for_request(self, request: Request) -> AccessPolicy:
        """The request's policy; 401/403/400 for a missing token, a purpose the token was
        not granted, or a break-glass the actor may not use."""
        if not self.auth_on:
            return SYSTEM
        access = require_token(access_context(request))
        policy = self.for_token(access, _purpose(request.headers.get("x-purpose-of-use"),
                                                 access))
        await self._break_glass(policy, request.headers.get("x-break-glass-reason"))
        return policy

    async def _break_glass(self, policy: RequestPolicy, reason: str | None) -> None:
        view = policy.consent
        assert view is not None
        if reason is None and view.purpose != "BTG":
            return
        if view.purpose not in BREAK_GLASS_PURPOSES:
            raise InvalidRequest("X-Break-Glass-Reason needs purpose of use ETREAT or BTG "
                                 "(X-Purpose-Of-Use)")
        if reason is None or not _REASON.match(reason.strip()):
            raise InvalidRequest("Break-glass needs a reason: X-Break-Glass-Reason, 1 to "
                                 "500 printable characters")
        actor = await view.actor(memberships=True)
        user = view.access.fhir_user or ""
        practitioner = user.split("/")[-2:-1] in (["Practitioner"], ["PractitionerRole"])
        if not self.consent_policy.may_break_glass({code for _, code in actor.roles},
                                                   practitioner):
            raise Forbidden("Break-glass is not allowed for your role in this deployment")
        view.break_glass_reason = reason.strip()
        view.override = True


def policy_of(request: Request) -> AccessPolicy:
    """The policy the access middleware built for this request. Fails closed: a request
    that did not pass the middleware cannot read anything."""
    state: Any = request.scope.get("state", {})
    policy = state.get(POLICY_KEY)
    if policy is None:
        raise RuntimeError(f"no access policy for {request.url.path}: the request did "
                           "not pass the access middleware")
    return policy
