"""What an access token's scopes let it see and do (SMART App Launch 2.x, "Scopes and
Launch Context"; RFC 6750 section 3.1 for ``insufficient_scope``).

* :meth:`TokenRules.check_interaction`: 401 without a token, 403 when no scope allows the
  interaction on the type (before any handler runs).
* :meth:`TokenRules.filter`: the MongoDB condition a query on one resource type is ANDed
  with: the patient compartment of ``patient/`` grants (and of ``user/`` grants of a
  Patient user), the v2 query restriction (``?category=laboratory``), or nothing hidden.
* :meth:`TokenRules.visible` / :meth:`TokenRules.check_write`: the same grants on one
  resource in memory (the v2 query part is checked by the caller, in the query).

A patient-limited grant shows a resource only when it is in that patient's compartment
*and no other patient's*: a Group, Appointment or AuditEvent naming several patients would
otherwise tell one patient about another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from consent.expressions import MATCH_NOTHING

from ..errors import Forbidden, Unauthorized
from ..search.compartments import COMPARTMENTS_FIELD
from .compartment import patient_compartment_types, referenced_patients
from .grants import PERMISSION_OF, Grant, grants_for
from .identity import AccessContext

__all__ = ["TokenRules", "QueryCompiler", "insufficient_scope", "only_patient_filter"]

QueryCompiler = Callable[[str, list[tuple[str, str]]], Awaitable[dict[str, Any]]]


def insufficient_scope(message: str) -> Forbidden:
    description = message[:200].replace("\n", " ").replace('"', "'")
    return Forbidden(message, headers={
        "WWW-Authenticate": f'Bearer error="insufficient_scope", error_description='
                            f'"{description}"'})


def only_patient_filter(patient: str) -> dict[str, Any]:
    """In ``patient``'s compartment and in no other patient's (an indexed equality plus a
    field condition on the same array)."""
    return {COMPARTMENTS_FIELD: {"$all": [f"Patient/{patient}"],
                                 "$not": {"$elemMatch": {"$regex": "^Patient/",
                                                         "$ne": f"Patient/{patient}"}}}}


def _read_grants(context: AccessContext, resource_type: str) -> list[Grant]:
    """Grants to see resources of a type in results (read or search permission)."""
    found = grants_for(context, "s", resource_type)
    found += [g for g in grants_for(context, "r", resource_type) if g not in found]
    return [Grant()] if Grant() in found else found


class TokenRules:
    """The grants of one access token."""

    def __init__(self, context: AccessContext, base: str, compile_query: QueryCompiler
                 ) -> None:
        self.context = context
        self.base = base
        self.compile_query = compile_query

    def check_interaction(self, interaction: str, resource_type: str | None) -> None:
        permission = PERMISSION_OF.get(interaction)
        if permission is None:
            return  # capabilities; transaction and batch are checked entry by entry
        if not grants_for(self.context, permission, resource_type or "*"):
            raise insufficient_scope(
                f"The access token's scopes do not allow {interaction} on "
                f"{resource_type or 'all resource types'} (granted: {self.context.scopes})")

    def unrestricted(self, resource_type: str, permission: str = "r") -> bool:
        return grants_for(self.context, permission, resource_type) == [Grant()]

    def patient_limit(self, resource_type: str) -> str | None:
        """The one patient every read grant on the type is limited to, if any."""
        grants = _read_grants(self.context, resource_type)
        patients = {g.patient for g in grants if not g.hidden}
        if len(patients) == 1 and None not in patients and resource_type in (
                patient_compartment_types()):
            return next(iter(patients))  # type: ignore[return-value]
        return None

    async def _grant_filter(self, resource_type: str, grant: Grant) -> dict[str, Any] | None:
        if grant.hidden:
            return None
        parts: list[dict[str, Any]] = []
        if grant.patient is not None:
            if resource_type not in patient_compartment_types():
                return None
            parts.append(only_patient_filter(grant.patient))
        if grant.query:
            parts.append(await self.compile_query(resource_type, list(grant.query)))
        parts = [p for p in parts if p]
        if not parts:
            return {}
        return parts[0] if len(parts) == 1 else {"$and": parts}

    async def filter(self, resource_type: str, permission: str = "s"
                     ) -> dict[str, Any] | None:
        """What of a type the token may see: None everything, else a condition
        (:data:`MATCH_NOTHING` when nothing)."""
        grants = (_read_grants(self.context, resource_type) if permission == "s"
                  else grants_for(self.context, permission, resource_type))
        filters = [f for f in [await self._grant_filter(resource_type, g) for g in grants]
                   if f is not None]
        if not filters:
            return MATCH_NOTHING
        if {} in filters:
            return None
        return filters[0] if len(filters) == 1 else {"$or": filters}

    def visible(self, resource: dict[str, Any], permission: str) -> bool | None:
        """Whether one resource is within a grant: True, False, or None when only a grant
        with a v2 query could show it (the caller decides that in the database)."""
        needs_query = False
        for grant in grants_for(self.context, permission, resource["resourceType"]):
            if grant.hidden:
                continue
            if grant.patient is not None and referenced_patients(
                    resource, self.base) != {grant.patient}:
                continue
            if grant.query:
                needs_query = True
                continue
            return True
        return None if needs_query else False

    def check_write(self, resource_type: str, new: dict[str, Any]) -> None:
        """403 when a written resource would fall outside the token's grants."""
        permission = "c" if new.get("meta", {}).get("versionId") in (None, "1") else "u"
        if self.visible(new, permission) is not True and self.visible(new, "u") is not True:
            raise insufficient_scope(
                f"The access token's scopes do not allow writing this {resource_type}: "
                "it would be outside the patient's compartment or the scope's query "
                "(writes need a scope without a ?query restriction)")


def require_token(context: AccessContext | None) -> AccessContext:
    if context is None:
        raise Unauthorized("An access token is required",
                           headers={"WWW-Authenticate": 'Bearer realm="fhir"'})
    return context
