"""What each actor may see of each resource: the suite's expectations, as a few rules over
the record's table (data.py), written from the design (docs/consent.md, docs/smart.md,
issue 12), not computed by the server's code.

:func:`state` answers ``VISIBLE``, ``MASKED`` (shown only without its content),
``HIDDEN`` (must be indistinguishable from a resource that does not exist) or
``OPTIONAL`` (the design allows either; nothing is asserted but that no other patient's
data rides along).
"""

from __future__ import annotations

from typing import Any

from .data import (
    BINARIES,
    CATEGORY,
    CONSENT_RULE,
    CONSENTS,
    DENIED_ORGANIZATION,
    HIV_DISEASE,
    HIV_TEST,
    PSY,
    RECORD,
    REFERENCE_DATA,
    Actor,
)

VISIBLE, MASKED, HIDDEN, OPTIONAL = "visible", "masked", "hidden", "optional"

# Types a patient-limited grant never shows (they can hold anyone's data) unless they are
# in the patient's compartment; Binary follows its securityContext.
_PATIENT_HIDDEN = {"Bundle", "Contract", "Linkage", "MessageHeader", "Subscription"}
_NOT_IN_COMPARTMENT = {"Organization", "Practitioner", "PractitionerRole", "Bundle",
                       "Contract", "Linkage", "MessageHeader", "Subscription", "Medication",
                       "Location", "OperationOutcome", "Parameters"}
_HIV = {HIV_TEST, HIV_DISEASE}

STATIC: dict[str, dict[str, Any]] = {
    f"{r['resourceType']}/{r['id']}": r
    for r in [*REFERENCE_DATA, *RECORD, *CONSENTS, *BINARIES]}


def key(resource: dict[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


_PATIENTS: dict[str, frozenset[str]] = {}


def patients_of(resource: dict[str, Any]) -> frozenset[str]:
    """The patients a resource is about: itself if a Patient, and every Patient it refers
    to (in this record every such reference is a compartment link: subject, patient,
    Group.member, Binary.securityContext, Consent.patient)."""
    reference = key(resource)
    if STATIC.get(reference) is resource:
        if reference not in _PATIENTS:
            _PATIENTS[reference] = _patients_of(resource)
        return _PATIENTS[reference]
    return _patients_of(resource)


def _patients_of(resource: dict[str, Any]) -> frozenset[str]:
    found = {resource["id"]} if resource.get("resourceType") == "Patient" else set()
    for node in _walk(resource):
        reference = node.get("reference")
        if isinstance(reference, str) and reference.startswith("Patient/"):
            found.add(reference.split("/")[1])
    return frozenset(found)


def _codes(resource: dict[str, Any]) -> set[str]:
    """The codes of the resource's ``code`` element (what a Consent's code selects)."""
    concept = resource.get("code")
    codings = concept.get("coding", []) if isinstance(concept, dict) else []
    return {c.get("code") for c in codings if isinstance(c, dict)}


def _category(resource: dict[str, Any]) -> set[str]:
    return {c.get("code") for cat in resource.get("category") or []
            for c in cat.get("coding", []) if c.get("system") == CATEGORY}


def _labelled_psy(resource: dict[str, Any]) -> bool:
    return any(label.get("code") == PSY["code"] and label.get("system") == PSY["system"]
               for label in (resource.get("meta") or {}).get("security") or [])


_STATES: dict[tuple[str, str, str], str] = {}


def state(actor: Actor, situation: str, resource: dict[str, Any]) -> str:
    """How ``actor`` (in ``situation``: whose patient token) may see ``resource``."""
    reference = key(resource)
    if STATIC.get(reference) is not resource:
        return _state(actor, situation, resource)
    cached = (actor.name, situation, reference)
    if cached not in _STATES:
        _STATES[cached] = _state(actor, situation, resource)
    return _STATES[cached]


def _state(actor: Actor, situation: str, resource: dict[str, Any]) -> str:
    resource_type = resource.get("resourceType")
    if resource_type == "AuditEvent":
        return OPTIONAL  # the access log has its own checks (test_audit.py)
    patients = patients_of(resource)
    own = actor.patient_of(situation)
    if own is not None:
        if resource_type in _PATIENT_HIDDEN:
            return HIDDEN
        if resource_type in _NOT_IN_COMPARTMENT:
            return VISIBLE
        if resource_type == "Binary":
            return OPTIONAL if patients == {own} else HIDDEN
        return VISIBLE if patients == {own} else HIDDEN
    if actor.observation_category is not None and (
            resource_type != "Observation"
            or actor.observation_category not in _category(resource)):
        return HIDDEN
    if actor.break_glass:
        return VISIBLE
    found = VISIBLE
    for patient in patients:
        rule = CONSENT_RULE.get(patient)
        if rule == "deny-organization" and actor.organization == DENIED_ORGANIZATION:
            return HIDDEN
        if rule == "deny-code" and _codes(resource) & _HIV:
            return HIDDEN
        if rule == "mask-label" and _labelled_psy(resource):
            found = MASKED
    return found


def static_state(actor: Actor, situation: str, reference: str) -> str:
    return state(actor, situation, STATIC[reference])


_PROTECTED: dict[tuple[str, str], dict[str, str]] = {}


def protected(actor: Actor, situation: str) -> dict[str, str]:
    """Every resource of the record this actor may not see in full: reference -> state."""
    if (actor.name, situation) in _PROTECTED:
        return _PROTECTED[actor.name, situation]
    found = _PROTECTED[actor.name, situation] = {}
    for reference, resource in STATIC.items():
        seen = state(actor, situation, resource)
        if seen in (HIDDEN, MASKED):
            found[reference] = seen
    return found
