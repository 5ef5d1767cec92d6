"""A Consent's provisions as conditions on resources, for one request.

The request side of a provision (``period`` against the request time, ``actor``,
``action``, ``purpose``) is settled here; what is left is an expression over the resource
(``securityLabel``, ``class``, ``code``, ``dataPeriod``, ``data``). A provision applies
when all its conditions hold; within one condition the listed values are alternatives.

A provision tree gives three expressions, *deny*, *mask* and *permit*: the resources for
which the Consent decides that way. Nested provisions are exceptions: when one applies,
it decides instead of its parent; among siblings that apply, deny beats mask beats
permit. A Consent whose root does not apply decides nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .codes import CONSENT_ACTION, RESOURCE_TYPES, Code, purpose_covers
from .dates import data_period_bounds, period_holds
from .expressions import (
    FALSE,
    CodeIn,
    Constant,
    DateIn,
    Expression,
    InstanceIn,
    LabelIn,
    ProfileIn,
    RefersTo,
    TypeIn,
    all_of,
    any_of,
    negate,
)
from .provisions import DataItem, Provision
from .request import AccessRequest

__all__ = ["Outcomes", "provision_applies", "outcomes", "unmet_conditions", "Related"]

Related = Mapping[str, frozenset[str]]
"""For ``data.meaning = related``: reference -> the references that resource makes."""


@dataclass(frozen=True)
class Outcomes:
    deny: Expression
    mask: Expression
    permit: Expression


_NONE = Outcomes(FALSE, FALSE, FALSE)


def unmet_conditions(provision: Provision, request: AccessRequest) -> list[str]:
    """The request-side conditions of a provision the request does not meet."""
    unmet = []
    if provision.period is not None and not period_holds(provision.period, request.at):
        unmet.append("period")
    if provision.actors and not any(request.actor.is_named_by(a) for a in provision.actors):
        unmet.append("actor")
    actions = {code for system, code in provision.actions if system in (CONSENT_ACTION, None)}
    if provision.actions and not actions & request.actions:
        unmet.append("action")
    if provision.purposes and not any(purpose_covers(code, request.purpose)
                                      for _, code in provision.purposes):
        unmet.append("purpose")
    return unmet


def _class(classes: frozenset[Code]) -> Expression:
    types = {c for s, c in classes if s in (RESOURCE_TYPES, None) and ":" not in c}
    profiles = {c for s, c in classes if c.startswith(("http://", "https://", "urn:"))
                and s != "urn:ietf:bcp:13"}
    return any_of(TypeIn(frozenset(types)) if types else FALSE,
                  ProfileIn(frozenset(profiles)) if profiles else FALSE)


def _data_item(item: DataItem, related: Related) -> Expression:
    own = frozenset({item.reference})
    if item.meaning == "instance":
        return InstanceIn(own)
    if item.meaning == "related":
        return InstanceIn(own | related.get(item.reference, frozenset()))
    if item.meaning == "dependents":
        return any_of(InstanceIn(own), RefersTo("reference", own))
    return RefersTo("author", own)


def provision_applies(provision: Provision, request: AccessRequest,
                      related: Related) -> Expression:
    """For which resources the provision's conditions all hold."""
    if unmet_conditions(provision, request):
        return FALSE
    parts: list[Expression] = []
    if provision.security_labels:
        parts.append(LabelIn(provision.security_labels))
    if provision.classes:
        parts.append(_class(provision.classes))
    if provision.codes:
        parts.append(CodeIn(provision.codes))
    low, high = data_period_bounds(provision.data_period)
    if provision.data_period is not None:
        parts.append(DateIn(low, high) if low or high else FALSE)
    if provision.data:
        parts.append(any_of(*(_data_item(item, related) for item in provision.data)))
    return all_of(*parts)


def outcomes(provision: Provision, request: AccessRequest, related: Related) -> Outcomes:
    """The deny / mask / permit expressions of a provision and its exceptions."""
    applies = provision_applies(provision, request, related)
    if applies == FALSE:
        return _NONE
    children = [outcomes(child, request, related) for child in provision.provisions]
    deny = any_of(*(c.deny for c in children))
    mask = any_of(*(c.mask for c in children))
    permit = any_of(*(c.permit for c in children))
    effect = provision.effect
    return Outcomes(
        deny=all_of(applies, any_of(deny, all_of(Constant(effect == "deny"), negate(mask),
                                                 negate(permit)))),
        mask=all_of(applies, negate(deny), any_of(mask, all_of(Constant(effect == "mask"),
                                                               negate(permit)))),
        permit=all_of(applies, negate(deny), negate(mask),
                      any_of(permit, Constant(effect == "permit"))),
    )

