"""What a token may do to one resource type: its grants, as data.

A grant is one resource scope's effect for an interaction on a type: unrestricted, or
limited to a patient's compartment (``patient/`` scopes, and ``user/`` scopes of a user who
is a Patient), and/or to resources matching a v2 query (``?category=laboratory``). The
token may do what any of its grants allows (SMART scopes are additive).
"""

from __future__ import annotations

from dataclasses import dataclass

from .compartment import patient_compartment_types
from .identity import AccessContext

__all__ = ["Grant", "grants_for", "PERMISSION_OF", "PATIENT_HIDDEN_TYPES"]

PERMISSION_OF = {
    "read": "r", "vread": "r", "history": "r", "search": "s",
    "create": "c", "update": "u", "patch": "u", "delete": "d", "operation": "r",
}
# Outside the Patient compartment but able to hold anyone's data: never shown to a
# patient-context grant.
PATIENT_HIDDEN_TYPES = frozenset({"Binary", "Bundle", "Contract", "Linkage", "MessageHeader",
                                  "Subscription", "AuditEvent"})
_CONTEXTS_OF_KIND = {
    "user": {"patient", "user"},
    "backend": {"system"},
    "operator": {"patient", "user", "system"},
    "external": {"patient", "user", "system"},
}


@dataclass(frozen=True)
class Grant:
    """``patient``: the compartment the grant is limited to; ``query``: v2 restriction."""

    patient: str | None = None
    query: tuple[tuple[str, str], ...] = ()
    hidden: bool = False

    @property
    def unrestricted(self) -> bool:
        return self.patient is None and not self.query and not self.hidden


def _own_patient(context: AccessContext) -> str | None:
    """The record ``user/`` grants are limited to: a Patient user's own; a RelatedPerson
    user's, the patient they act for (the token's patient context, set at sign-in from
    ``RelatedPerson.patient``; none set: no record, "" matches no compartment)."""
    if context.fhir_user and context.fhir_user.startswith("Patient/"):
        return context.fhir_user.split("/", 1)[1]
    if context.fhir_user and context.fhir_user.startswith("RelatedPerson/"):
        return context.patient or ""
    return None


def grants_for(context: AccessContext, permission: str, resource_type: str) -> list[Grant]:
    """The grants a token has for ``permission`` (one of ``cruds``) on a type."""
    allowed_contexts = _CONTEXTS_OF_KIND.get(context.kind, set())
    in_compartment = resource_type in patient_compartment_types()
    found: list[Grant] = []
    for scope in context.scopes.granting(permission, resource_type):
        if scope.context not in allowed_contexts:
            continue
        if scope.context == "patient":
            patient = context.patient
            if patient is None:
                continue
        elif scope.context == "user":
            patient = _own_patient(context)
        else:
            patient = None
        if patient is not None and not in_compartment and resource_type != "*":
            grant = Grant(hidden=resource_type in PATIENT_HIDDEN_TYPES, query=scope.query)
        else:
            grant = Grant(patient, scope.query)
        if grant not in found:
            found.append(grant)
    if any(g.unrestricted for g in found):
        return [Grant()]
    return [g for g in found if not g.hidden] or found[:1]
