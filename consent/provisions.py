"""Consent resources read as rules (R4 consent.html, ``Consent.provision``).

Only privacy consents decide access: ``scope = patient-privacy``, ``status = active``, a
``patient``. The root provision says when the Consent applies (its conditions) and its
base decision comes from ``Consent.policyRule`` (v3 ActCode ``OPTIN``/``OPTINR`` permit,
``OPTOUT``/``OPTOUTE`` deny); R4 forbids ``type`` on the root rule, but a root ``type`` is
honoured when present. Nested provisions are exceptions to their parent and must have a
``type``; one without is read as a grouping with no decision of its own.

Codes in a provision's ``securityLabel`` from v3 ObligationPolicy (``MASK``, ``REDACT``)
are not selectors of data but an obligation: the data the provision covers is disclosed
masked (see :mod:`consent.masking`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .codes import (
    ACT_CODE,
    CONSENT_SCOPE,
    MASKING_OBLIGATIONS,
    OBLIGATION_POLICY,
    Code,
    codings,
)

__all__ = ["Provision", "ProvisionActor", "DataItem", "ConsentRule", "consent_rule",
           "relative_reference", "DATA_MEANINGS"]

DATA_MEANINGS = ("instance", "related", "dependents", "authoredby")
_BASE_DECISION = {"OPTIN": "permit", "OPTINR": "permit", "OPTOUT": "deny", "OPTOUTE": "deny"}


def relative_reference(reference: Any, base: str = "") -> str | None:
    """``Type/id`` of a Reference (or reference string) to this server, else None."""
    value = reference.get("reference") if isinstance(reference, dict) else reference
    if not isinstance(value, str):
        return None
    if base and value.startswith(base + "/"):
        value = value[len(base) + 1:]
    parts = value.split("/")
    if len(parts) == 4 and parts[2] == "_history":
        parts = parts[:2]
    if len(parts) != 2 or not parts[0][:1].isupper() or not parts[1]:
        return None
    return "/".join(parts)


@dataclass(frozen=True)
class ProvisionActor:
    """``provision.actor``: who the rule is about, and in which role."""

    role: frozenset[Code]
    reference: str


@dataclass(frozen=True)
class DataItem:
    """``provision.data``: ``meaning`` (instance, related, dependents, authoredby)."""

    meaning: str
    reference: str


@dataclass(frozen=True)
class Provision:
    """One rule; ``path`` names it inside its Consent (``provision.provision[1]``)."""

    path: str
    type: str | None
    period: dict[str, Any] | None
    actors: tuple[ProvisionActor, ...]
    actions: frozenset[Code]
    security_labels: frozenset[Code]
    obligations: frozenset[str]
    purposes: frozenset[Code]
    classes: frozenset[Code]
    codes: frozenset[Code]
    data_period: dict[str, Any] | None
    data: tuple[DataItem, ...]
    provisions: tuple[Provision, ...]

    @property
    def effect(self) -> str | None:
        """``permit``, ``deny``, ``mask`` (a permit or deny carrying a masking
        obligation), or None for a rule without a decision of its own."""
        if self.type in ("permit", "deny") and self.obligations:
            return "mask"
        return self.type


@dataclass(frozen=True)
class ConsentRule:
    """A privacy Consent: ``reference`` (``Consent/id``), the patient id, the root rule."""

    reference: str
    patient: str
    root: Provision


def _labels(value: Any) -> tuple[frozenset[Code], frozenset[str]]:
    labels = codings(value)
    obligations = {c for s, c in labels if s == OBLIGATION_POLICY and c in MASKING_OBLIGATIONS}
    selectors = {(s, c) for s, c in labels if not (s == OBLIGATION_POLICY and c in obligations)}
    return frozenset(selectors), frozenset(obligations)


def _actors(value: Any, base: str) -> tuple[ProvisionActor, ...]:
    found = []
    for actor in value if isinstance(value, list) else []:
        reference = relative_reference(actor.get("reference") if isinstance(actor, dict)
                                       else None, base)
        if reference is not None:
            found.append(ProvisionActor(codings(actor.get("role")), reference))
    return tuple(found)


def _data(value: Any, base: str) -> tuple[DataItem, ...]:
    found = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict) or item.get("meaning") not in DATA_MEANINGS:
            continue
        reference = relative_reference(item.get("reference"), base)
        if reference is not None:
            found.append(DataItem(item["meaning"], reference))
    return tuple(found)


def _provision(node: dict[str, Any], path: str, base: str, type_: str | None) -> Provision:
    labels, obligations = _labels(node.get("securityLabel"))
    children = node.get("provision")
    nested = [child for child in children if isinstance(child, dict)] if isinstance(
        children, list) else []
    return Provision(
        path=path,
        type=type_,
        period=node.get("period") if isinstance(node.get("period"), dict) else None,
        actors=_actors(node.get("actor"), base),
        actions=codings(node.get("action")),
        security_labels=labels,
        obligations=obligations,
        purposes=codings(node.get("purpose")),
        classes=codings(node.get("class")),
        codes=codings(node.get("code")),
        data_period=node.get("dataPeriod") if isinstance(node.get("dataPeriod"), dict)
        else None,
        data=_data(node.get("data"), base),
        provisions=tuple(
            _provision(child, f"{path}.provision[{i}]", base,
                       child.get("type") if child.get("type") in ("permit", "deny") else None)
            for i, child in enumerate(nested)),
    )


def _base_decision(consent: dict[str, Any]) -> str | None:
    root = consent.get("provision")
    if isinstance(root, dict) and root.get("type") in ("permit", "deny"):
        return root["type"]
    for system, code in codings(consent.get("policyRule")):
        if system in (ACT_CODE, None) and code in _BASE_DECISION:
            return _BASE_DECISION[code]
    return None


def consent_rule(consent: dict[str, Any], base: str = "") -> ConsentRule | None:
    """The rule of a privacy Consent that can take effect, or None (another scope, not
    active, no patient). Whether its period holds is decided per request."""
    if consent.get("resourceType") != "Consent" or consent.get("status") != "active":
        return None
    if (CONSENT_SCOPE, "patient-privacy") not in codings(consent.get("scope")):
        return None
    patient = relative_reference(consent.get("patient"), base)
    if patient is None or not patient.startswith("Patient/"):
        return None
    root = consent.get("provision") if isinstance(consent.get("provision"), dict) else {}
    return ConsentRule(f"Consent/{consent.get('id')}", patient.split("/", 1)[1],
                       _provision(root, "provision", base, _base_decision(consent)))
