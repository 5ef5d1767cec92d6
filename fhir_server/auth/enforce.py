"""Scope enforcement on the resource server.

* ``enforce(request, interaction, type)``: the router's check before any handler runs:
  403 when no scope of the token allows the interaction on the type.
* ``AccessGuard``: the repository's check on every single resource it reads or writes for
  a request: a resource outside what the token may see is 404 (as if it did not exist, so
  ids of other patients' data are not confirmed), a write that would put a resource
  outside the token's compartment is 403.
* ``restriction.search_restriction``: the MongoDB filter a search (and its ``_include``
  / ``_revinclude``) is ANDed with, so hidden resources are never matched or counted.
* ``check_history``: instance history follows the resource's visibility; type and system
  history are only for unrestricted grants (the history collection has no index
  to filter by compartment).

SMART App Launch 2.x "Scopes and Launch Context"; RFC 6750 section 3.1 for
``insufficient_scope``.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from starlette.requests import Request

from ..errors import Forbidden, NotFound, Unauthorized
from .compartment import in_patient_compartment
from .context import AccessContext, access_context
from .grants import PERMISSION_OF, Grant, grants_for

__all__ = ["enforce", "AccessGuard", "current_access", "check_history", "visible"]

current_access: ContextVar[AccessContext | None] = ContextVar("fhir_access", default=None)


def _auth_on(request: Request) -> bool:
    return getattr(request.app.state.settings, "auth", "off") == "smart"


def _insufficient(message: str) -> Forbidden:
    return Forbidden(message, headers={
        "WWW-Authenticate": 'Bearer error="insufficient_scope", '
                            f'error_description="{message[:200]}"'.replace("\n", " ")})


def enforce(request: Request, interaction: str, resource_type: str | None) -> None:
    """Refuse (403) an interaction no scope of the token allows; 401 without a token."""
    if not _auth_on(request) or interaction == "capabilities":
        return
    context = access_context(request)
    if context is None:
        raise Unauthorized("An access token is required",
                           headers={"WWW-Authenticate": 'Bearer realm="fhir"'})
    permission = PERMISSION_OF.get(interaction)
    if permission is None:
        return  # capabilities; transaction and batch are checked entry by entry
    target = resource_type or "*"
    if not grants_for(context, permission, target):
        raise _insufficient(
            f"The access token's scopes do not allow {interaction} on "
            f"{resource_type or 'all resource types'} (granted: {context.scopes})"
        )


def visible(context: AccessContext, permission: str, resource: dict[str, Any], base: str,
            matches_query: bool | None = None) -> bool:
    """Whether one resource is within some grant (``matches_query``: v2 query verdict)."""
    for grant in grants_for(context, permission, resource["resourceType"]):
        if grant.hidden:
            continue
        if grant.patient is not None and not in_patient_compartment(resource, grant.patient,
                                                                    base):
            continue
        if grant.query and not matches_query:
            continue
        return True
    return False


class AccessGuard:
    """Installed on the repository: decides single resources for the current request."""

    def __init__(self, search: Any, base: str) -> None:
        self.search = search
        self.base = base

    async def _matches_query(self, context: AccessContext, permission: str,
                             resource: dict[str, Any]) -> bool:
        queries = [g.query for g in grants_for(context, permission, resource["resourceType"])
                   if g.query]
        for query in queries:
            found = await self.search.match_ids(
                resource["resourceType"], [("_id", resource["id"]), *query], 1)
            if found:
                return True
        return False

    async def check_read(self, resource: dict[str, Any] | None) -> None:
        context = current_access.get()
        if context is None or resource is None:
            return
        if visible(context, "r", resource, self.base):
            return
        if "id" in resource and visible(context, "r", resource, self.base,
                                        await self._matches_query(context, "r", resource)):
            return
        raise NotFound(f"Resource {resource['resourceType']}/{resource.get('id')} "
                       "is not known")

    async def check_write(self, resource_type: str, old: dict[str, Any] | None,
                          new: dict[str, Any] | None) -> None:
        context = current_access.get()
        if context is None:
            return
        if old is not None:
            permission = "u" if new is not None else "d"
            if not visible(context, permission, old, self.base):
                raise NotFound(f"Resource {resource_type}/{old.get('id')} is not known")
        if new is not None:
            permission = "c" if old is None else "u"
            if not visible(context, permission, new, self.base):
                raise _insufficient(
                    f"The access token's scopes do not allow writing this {resource_type}: "
                    "it would be outside the patient's compartment or the scope's query "
                    "(writes need a scope without a ?query restriction)")


async def check_history(request: Request, repository: Any, resource_type: str | None,
                        rid: str | None) -> None:
    context = access_context(request) if _auth_on(request) else None
    if context is None:
        return
    if rid is None or resource_type is None:
        if grants_for(context, "r", resource_type or "*") != [Grant()]:
            raise _insufficient(
                "Type and system history need an unrestricted scope; a patient-context "
                "or query-restricted token can read the history of one resource")
        return
    latest = await repository.latest_content(resource_type, rid)
    base = request.app.state.settings.fhir_base
    if latest is None or not visible(context, "r", latest, base):
        raise NotFound(f"Resource {resource_type}/{rid} is not known")
