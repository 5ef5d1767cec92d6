"""Consent decisions: one resource (with reasons), or every resource a request may see.

For each patient whose compartment holds a resource, that patient's Consents decide:
deny if any Consent denies, else mask if any masks, else permit if any permits, else the
deployment default (opt-out: permit; opt-in: deny). A resource of several patients needs
every one of them to allow it (deny overrides). Data outside any patient compartment
(Practitioner, Organization, Medication, ...) is not governed by Consents, nor is a
patient's own access to their record.

:func:`visible` is the same rule as one expression over all resources, compiled into the
MongoDB query of searches, ``_include``/``_revinclude`` and ``$everything``, so totals
and paging only ever count what the actor may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .expressions import (
    FALSE,
    TRUE,
    Expression,
    Matcher,
    OfPatients,
    OnlyPatients,
    all_of,
    any_of,
    evaluate,
    negate,
)
from .policy import OPT_IN, ConsentPolicy
from .provisions import ConsentRule, Provision
from .request import AccessRequest
from .rules import Related, outcomes, provision_applies, unmet_conditions

__all__ = ["Decision", "Reason", "PatientView", "patient_view", "decide", "visible",
           "PERMIT", "DENY", "MASK"]

PERMIT, DENY, MASK = "permit", "deny", "mask"
RulesByPatient = Mapping[str, list[ConsentRule]]


@dataclass(frozen=True)
class Reason:
    """Why: a provision (``consent`` + ``provision`` path) or the default policy."""

    effect: str
    text: str
    consent: str | None = None
    provision: str | None = None


@dataclass(frozen=True)
class Decision:
    outcome: str
    reasons: tuple[Reason, ...]
    patients: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatientView:
    """What one patient's Consents let the request see, and what of it is masked."""

    visible: Expression
    masked: Expression


def patient_view(rules: list[ConsentRule], request: AccessRequest, policy: ConsentPolicy,
                 related: Related) -> PatientView:
    found = [outcomes(rule.root, request, related) for rule in rules]
    deny = any_of(*(o.deny for o in found))
    mask = any_of(*(o.mask for o in found))
    permit = any_of(*(o.permit for o in found))
    allowed = negate(deny)
    if policy.default == OPT_IN:
        allowed = all_of(allowed, any_of(mask, permit))
    return PatientView(allowed, all_of(negate(deny), mask))


def visible(rules_by_patient: RulesByPatient, request: AccessRequest,
            policy: ConsentPolicy, related: Related, *, own_patient: str | None = None,
            hide_masked: bool = False) -> Expression:
    """The resources the request may see, for the patients in ``rules_by_patient``.

    Under opt-out, patients not listed keep the default (visible); under opt-in only the
    listed patients whose Consents permit something (and ``own_patient``) are visible.
    ``hide_masked`` treats masked data as hidden (searches on its content would leak it).
    Patients whose Consents come to the same condition share one clause ("not their data,
    or data meeting it"), so standard consent forms keep the filter small.
    """
    shown_to: dict[Expression, set[str]] = {}
    allowed = {own_patient} if own_patient else set()
    for patient, rules in sorted(rules_by_patient.items()):
        if patient == own_patient:
            continue
        view = patient_view(rules, request, policy, related)
        shown = all_of(view.visible, negate(view.masked)) if hide_masked else view.visible
        shown_to.setdefault(shown, set()).add(patient)
        if shown != FALSE:
            allowed.add(patient)
    clauses = [any_of(negate(OfPatients(frozenset(patients))), shown)
               for shown, patients in shown_to.items() if shown != TRUE]
    if policy.default == OPT_IN:
        clauses.append(OnlyPatients(frozenset(allowed)))
    return all_of(*clauses)


def _explain(rule: ConsentRule, provision: Provision, request: AccessRequest,
             resource: dict, matcher: Matcher, related: Related) -> list[Reason]:
    unmet = unmet_conditions(provision, request)
    if unmet or not evaluate(provision_applies(provision, request, related), resource, matcher):
        why = ", ".join(unmet) if unmet else "the resource (label, class, code, dates, data)"
        return [Reason("none", f"does not apply: {why} not matched", rule.reference,
                       provision.path)]
    effect = provision.effect or "none"
    found = [Reason(effect, "applies", rule.reference, provision.path)]
    for child in provision.provisions:
        found.extend(_explain(rule, child, request, resource, matcher, related))
    return found


def _patient_decision(patient: str, rules: list[ConsentRule], request: AccessRequest,
                      policy: ConsentPolicy, resource: dict, matcher: Matcher,
                      related: Related) -> tuple[str, list[Reason]]:
    reasons = [reason for rule in rules
               for reason in _explain(rule, rule.root, request, resource, matcher, related)]
    view = patient_view(rules, request, policy, related)
    if not evaluate(view.visible, resource, matcher):
        outcome = DENY
    elif evaluate(view.masked, resource, matcher):
        outcome = MASK
    else:
        outcome = PERMIT
    decided = any(r.effect != "none" and r.text == "applies" for r in reasons)
    if not decided:
        reasons.append(Reason(outcome, f"no Consent of Patient/{patient} decides: "
                                       f"default policy {policy.default}"))
    return outcome, reasons


def decide(resource: dict, rules_by_patient: RulesByPatient, request: AccessRequest,
           policy: ConsentPolicy, matcher: Matcher, related: Related, *,
           own_patient: str | None = None) -> Decision:
    """The decision on one resource, with the provisions (or default) behind it."""
    members = matcher.patients(resource)
    patients = sorted(members - {own_patient} if own_patient else members)
    if not patients:
        text = ("the patient's own record" if own_patient and own_patient in members
                else "not in a patient compartment: no Consent governs it")
        return Decision(PERMIT, (Reason(PERMIT, text),))
    outcomes_found: list[str] = []
    reasons: list[Reason] = []
    for patient in patients:
        outcome, found = _patient_decision(patient, rules_by_patient.get(patient, []),
                                           request, policy, resource, matcher, related)
        outcomes_found.append(outcome)
        reasons.extend(found)
    outcome = next((o for o in (DENY, MASK) if o in outcomes_found), PERMIT)
    return Decision(outcome, tuple(reasons), tuple(patients))
