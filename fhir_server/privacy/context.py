"""One request's consent context: actor, purpose, break-glass, the Consents read so far,
and the decisions taken (for the AuditEvent).

Set by :mod:`.middleware` for every authenticated FHIR request (``current_privacy``);
read by the repository guard, the search restriction, history and the response hook.
Consents are loaded lazily, once per patient per request, and never cached across
requests.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from consent import (
    TRUE,
    AccessRequest,
    Actor,
    ConsentPolicy,
    ConsentRule,
    Decision,
    Expression,
    Matcher,
    patient_view,
    visible,
)
from consent.codes import PARTICIPATION_TYPE
from consent.decision import PatientView

from ..audit import Decided
from ..auth.context import AccessContext
from .store import load_related, load_rules, resolve_actor

__all__ = ["Privacy", "PrivacyRequest", "current_privacy"]


@dataclass(frozen=True)
class Privacy:
    """The consent service of a running server."""

    db: AsyncDatabase
    base: str
    matcher: Matcher
    policy: ConsentPolicy


@dataclass
class PrivacyRequest:
    privacy: Privacy
    access: AccessContext
    interaction: str
    at: datetime
    purpose: str
    break_glass_reason: str | None = None
    override: bool = False
    rules: dict[str, list[ConsentRule]] = field(default_factory=dict)
    loaded: set[str] = field(default_factory=set)
    all_loaded: bool = False
    related: dict[str, frozenset[str]] = field(default_factory=dict)
    decisions: list[Decided] = field(default_factory=list)
    _actor: Actor | None = None
    _memberships: bool = False
    _views: dict[str, PatientView] = field(default_factory=dict)

    @property
    def own_patient(self) -> str | None:
        """The patient the actor is: Consents do not limit a patient's own record."""
        user = _relative(self.access.fhir_user, self.privacy.base) or ""
        return user.split("/", 1)[1] if user.startswith("Patient/") else None

    @property
    def matcher(self) -> Matcher:
        return self.privacy.matcher

    async def actor(self, *, memberships: bool = False) -> Actor:
        """The actor; its roles and memberships are read when a Consent (or break-glass)
        needs them."""
        user = _relative(self.access.fhir_user, self.privacy.base)
        needed = memberships or _names_by_membership(self.rules.values(), user)
        if self._actor is None or (needed and not self._memberships):
            self._actor = await resolve_actor(self.privacy.db, self.privacy.base, user,
                                              self.access.client_id, memberships=needed)
            self._memberships = needed
        return self._actor

    async def load(self, patients: set[str] | None) -> None:
        """Read the Consents of these patients (of every patient when None), then resolve
        the actor as far as they need."""
        if not (self.all_loaded or (patients is not None and patients <= self.loaded)):
            wanted = None if patients is None else patients - self.loaded
            found = await load_rules(self.privacy.db, self.privacy.base, wanted)
            if wanted is None:
                self.rules, self.all_loaded = found, True
            else:
                self.rules.update(found)
                self.loaded |= wanted
            self.related.update(await load_related(
                self.privacy.db, self.privacy.base,
                [r for rules in found.values() for r in rules]))
            self._views.clear()
        await self.actor()

    def access_request(self) -> AccessRequest:
        assert self._actor is not None, "load() resolves the actor first"
        return AccessRequest(self._actor, self.at, self.purpose)

    def view(self, patient: str) -> PatientView:
        if patient not in self._views:
            self._views[patient] = patient_view(self.rules.get(patient, []),
                                                self.access_request(), self.privacy.policy,
                                                self.related)
        return self._views[patient]

    @property
    def ready(self) -> bool:
        """Whether Consents were read and the actor resolved for this request."""
        return self._actor is not None

    @property
    def masking(self) -> bool:
        """Whether some loaded Consent masks data (only then are responses inspected)."""
        pending = [rule.root for rules in self.rules.values() for rule in rules]
        while pending:
            provision = pending.pop()
            if provision.effect == "mask":
                return True
            pending.extend(provision.provisions)
        return False

    def visible(self, *, hide_masked: bool, ignore_override: bool = False) -> Expression:
        """What this request may see of the patients whose Consents are loaded
        (everything under break-glass, unless ``ignore_override``)."""
        if self.override and not ignore_override:
            return TRUE
        return visible(self.rules, self.access_request(), self.privacy.policy, self.related,
                       own_patient=self.own_patient, hide_masked=hide_masked)

    def record(self, what: str, decision: Decision) -> None:
        outcome = decision.outcome
        if self.override and outcome != "permit":
            outcome = "override"
        reasons = tuple(f"{' '.join(p for p in (r.consent, r.provision) if p) or 'policy'}: "
                        f"{r.effect} ({r.text})" for r in decision.reasons)
        self.decisions.append(Decided(outcome, what, decision.patients, reasons))

    def record_query(self, what: str, patients: set[str] | None, restricted: bool) -> None:
        outcome = "override" if self.override and restricted else "permit"
        reason = ("consent filter applied in the query" if restricted and not self.override
                  else "no consent restriction" if not restricted
                  else "break-glass: consent filter not applied")
        self.decisions.append(Decided(outcome, what, tuple(sorted(patients or ())),
                                       (reason,)))


def _relative(reference: str | None, base: str) -> str | None:
    if reference and reference.startswith(base + "/"):
        return reference[len(base) + 1:]
    return reference


def _names_by_membership(rule_lists: Any, fhir_user: str | None) -> bool:
    """Whether some provision names actors other than the fhirUser, or by job role."""
    pending = [rule.root for rules in rule_lists for rule in rules]
    while pending:
        provision = pending.pop()
        for actor in provision.actors:
            if actor.reference != fhir_user or any(
                    system != PARTICIPATION_TYPE for system, _ in actor.role):
                return True
        pending.extend(provision.provisions)
    return False


current_privacy: ContextVar[PrivacyRequest | None] = ContextVar("fhir_privacy", default=None)
