"""One request's view through the patients' Consents: the actor, the purpose, break-glass,
the Consents read so far, and the filters and decisions they give.

Consents are read lazily (once per patient per request, never cached across requests:
a new or revoked Consent takes effect on the next request) through a
:class:`ConsentSource` (the storage layer). Data outside every patient compartment is
not governed by Consents, nor is a patient's access to their own record.

Search filters (:meth:`ConsentView.filter`) come in two forms:

* population: every patient's Consents, "not their data, or data their Consents allow";
* narrowed to the patients the query itself is about (``patient=``, a compartment, a
  patient-context token): those patients' Consents only, ANDed with "in no other
  patient's compartment". The second clause makes the narrowing safe by construction: if
  the hint were wrong, other patients' data would be missing, never shown unchecked.
  For one patient the filter is made of plain field conditions (``$nin``, ``$not``),
  which a query planner answers from the search's own index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from consent import (
    DENY,
    OPT_IN,
    TRUE,
    AccessRequest,
    Actor,
    ConsentPolicy,
    ConsentRule,
    Decision,
    Expression,
    Matcher,
    decide,
    evaluate,
    patient_view,
    to_filter,
    visible,
)
from consent.codes import PARTICIPATION_TYPE
from consent.decision import PatientView
from consent.expressions import OnlyPatients, all_of, negate

from .audit_events import Decided
from .compartment import patient_compartment_types
from .identity import AccessContext

__all__ = ["ConsentSource", "ConsentView", "relative"]


class ConsentSource(Protocol):
    """Where the consent view reads what decisions need (the storage layer, with the
    server's own privileges)."""

    async def rules(self, patients: set[str] | None) -> dict[str, list[ConsentRule]]:
        """The active privacy Consents of these patients (of everyone when None)."""

    async def related(self, rules: list[ConsentRule]) -> dict[str, frozenset[str]]:
        """For ``data.meaning = related``: each such reference -> what it refers to."""

    async def actor(self, fhir_user: str | None, client: str | None, *,
                    memberships: bool) -> Actor:
        """The actor, with its roles, organizations, care teams and groups if asked."""


def relative(reference: str | None, base: str) -> str | None:
    if reference and reference.startswith(base + "/"):
        return reference[len(base) + 1:]
    return reference


def _names_by_membership(rule_lists: Any, fhir_user: str | None) -> bool:
    """Whether some provision names actors other than the fhirUser, or by job role."""
    pending = [rule.root for rules in rule_lists for rule in rules]
    while pending:
        provision = pending.pop()
        for named in provision.actors:
            if named.reference != fhir_user or any(
                    system != PARTICIPATION_TYPE for system, _ in named.role):
                return True
        pending.extend(provision.provisions)
    return False


@dataclass
class ConsentView:
    source: ConsentSource
    base: str
    matcher: Matcher
    policy: ConsentPolicy
    access: AccessContext
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
        user = relative(self.access.fhir_user, self.base) or ""
        return user.split("/", 1)[1] if user.startswith("Patient/") else None

    async def actor(self, *, memberships: bool = False) -> Actor:
        """The actor; its roles and memberships are read when a Consent (or break-glass)
        needs them."""
        user = relative(self.access.fhir_user, self.base)
        needed = memberships or _names_by_membership(self.rules.values(), user)
        if self._actor is None or (needed and not self._memberships):
            self._actor = await self.source.actor(user, self.access.client_id,
                                                  memberships=needed)
            self._memberships = needed
        return self._actor

    async def load(self, patients: set[str] | None) -> None:
        """Read the Consents of these patients (of every patient when None), then resolve
        the actor as far as they need."""
        if not (self.all_loaded or (patients is not None and patients <= self.loaded)):
            wanted = None if patients is None else patients - self.loaded
            found = await self.source.rules(wanted)
            if wanted is None:
                self.rules, self.all_loaded = found, True
            else:
                self.rules.update(found)
                self.loaded |= wanted
            self.related.update(await self.source.related(
                [r for rules in found.values() for r in rules]))
            self._views.clear()
        await self.actor()

    def request(self) -> AccessRequest:
        assert self._actor is not None, "load() resolves the actor first"
        return AccessRequest(self._actor, self.at, self.purpose)

    def view(self, patient: str) -> PatientView:
        if patient not in self._views:
            self._views[patient] = patient_view(self.rules.get(patient, []), self.request(),
                                                self.policy, self.related)
        return self._views[patient]

    @property
    def masking(self) -> bool:
        """Whether some loaded Consent masks data (only then are resources inspected)."""
        pending = [rule.root for rules in self.rules.values() for rule in rules]
        while pending:
            provision = pending.pop()
            if provision.effect == "mask":
                return True
            pending.extend(provision.provisions)
        return False

    # -- searches -------------------------------------------------------------------
    def _shown(self, patient: str, hide_masked: bool) -> Expression:
        if patient == self.own_patient:
            return TRUE
        view = self.view(patient)
        return all_of(view.visible, negate(view.masked)) if hide_masked else view.visible

    async def filter(self, resource_type: str, patients: frozenset[str] | None,
                     hide_masked: bool) -> dict[str, Any] | None:
        """The condition a query on ``resource_type`` is ANDed with; None when the
        Consents hide nothing of it (or break-glass is in force)."""
        if resource_type not in patient_compartment_types() or self.override:
            return None
        own = self.own_patient
        if patients is None:
            await self.load(None)
            expression = visible(self.rules, self.request(), self.policy, self.related,
                                 own_patient=own, hide_masked=hide_masked)
        else:
            await self.load(set(patients) - ({own} if own else set()))
            others = sorted(patients)
            if len(others) == 1:
                shown = self._shown(others[0], hide_masked)
            else:
                rules = {p: self.rules.get(p, []) for p in others}
                shown = visible(rules, self.request(), self.policy, self.related,
                                own_patient=own, hide_masked=hide_masked)
            expression = all_of(shown, OnlyPatients(frozenset(patients | (
                {own} if own else set()))))
        if expression == TRUE:
            return None
        return to_filter(expression, self.matcher)

    def restricts(self) -> bool:
        """Whether the loaded Consents hide anything from this request."""
        return visible(self.rules, self.request(), self.policy, self.related,
                       own_patient=self.own_patient, hide_masked=True) != TRUE

    # -- single resources -----------------------------------------------------------
    async def decide(self, resource: dict[str, Any]) -> Decision:
        """The decision on one resource (recorded for the audit trail)."""
        own = self.own_patient
        patients = self.matcher.patients(resource) - ({own} if own else set())
        await self.load(patients)
        decision = decide(resource, self.rules, self.request(), self.policy, self.matcher,
                          self.related, own_patient=own)
        self.record(f"{resource.get('resourceType')}/{resource.get('id')}", decision)
        return decision

    async def masked(self, resource: dict[str, Any]) -> bool:
        """Whether a resource that passed the filter is to be disclosed masked."""
        if self.override:
            return False
        own = self.own_patient
        patients = self.matcher.patients(resource) - ({own} if own else set())
        if not patients:
            return False
        await self.load(patients)
        if not self.masking:
            return False
        return any(evaluate(self.view(p).masked, resource, self.matcher)
                   for p in patients if p in self.rules)

    def denied(self, decision: Decision) -> bool:
        return decision.outcome == DENY and not self.override

    # -- the audit trail ------------------------------------------------------------
    def record(self, what: str, decision: Decision) -> None:
        outcome = decision.outcome
        if self.override and outcome != "permit":
            outcome = "override"
        reasons = tuple(f"{' '.join(p for p in (r.consent, r.provision) if p) or 'policy'}: "
                        f"{r.effect} ({r.text})" for r in decision.reasons)
        self.decisions.append(Decided(outcome, what, decision.patients, reasons))

    def record_query(self, what: str, patients: set[str], restricted: bool) -> None:
        outcome = "override" if self.override and restricted else "permit"
        reason = ("consent filter applied in the query" if restricted and not self.override
                  else "no consent restriction" if not restricted
                  else "break-glass: consent filter not applied")
        self.decisions.append(Decided(outcome, what, tuple(sorted(patients)), (reason,)))

    @property
    def opt_in(self) -> bool:
        return self.policy.default == OPT_IN
