"""``GET Patient/[id]/$consent-explain?actor=...&resource=...``: why a consent decision.

For support staff debugging a denial: the decision (``permit``, ``deny``, ``mask``) the
patient's Consents give ``actor`` on ``resource`` (for ``purpose``, default ``TREAT``), and
every provision considered: whether it applied, its effect, or which condition did not
match; plus what the actor was resolved to (PractitionerRoles, Organizations, CareTeams,
Groups, role codes). Nothing of the resource's content is returned.

Only for whom it concerns: the patient (``fhirUser`` Patient/[id]), their delegate (a
RelatedPerson of the patient), a privacy officer (a PractitionerRole code listed in
``FHIR_CONSENT_EXPLAIN_ROLES``) or the server's operators (``fhir-server token``) with
unrestricted grants; anyone else, a backend service too (broad scopes are no privacy
role), gets 403 before anything is looked up. The resource is
read with the caller's own access policy, so one the caller may not see is 404, exactly
as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from consent import AccessRequest, decide, purpose_codes, relative_reference
from profiles.definitions import resource_types

from .. import clock, interactions
from ..access import SYSTEM, AccessPolicy, RequestPolicy
from ..errors import Forbidden, InvalidRequest
from ..interactions import Caller
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import Operation, OperationCall

__all__ = ["OPERATIONS"]

_ACTOR_TYPES = ("Practitioner", "PractitionerRole", "Patient", "RelatedPerson", "Person",
                "Organization", "Device")


def _text(raw: Any) -> str:
    """A query value, or the value of a Parameters.parameter from a POST."""
    if not isinstance(raw, dict):
        return str(raw)
    if isinstance(raw.get("valueReference"), dict):
        return str(raw["valueReference"].get("reference", ""))
    return next((str(v) for k, v in raw.items() if k.startswith("value")), "")


def _arguments(call: OperationCall) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, raw in call.parameters:
        if name in ("actor", "resource", "purpose"):
            found[name] = _text(raw).strip()
        elif name not in ("_format", "_pretty"):
            raise InvalidRequest(f"Unknown $consent-explain parameter '{name[:60]}'")
    for name in ("actor", "resource"):
        if not found.get(name):
            raise InvalidRequest(f"$consent-explain needs the '{name}' parameter "
                                 "(a reference such as Practitioner/123)")
    return found


async def _reader(call: OperationCall, resource_type: str) -> AccessPolicy:
    """The policy to read the explained resource with: the patient's or delegate's own;
    the server's for privacy officers and operators (they explain denials); 403 for
    anyone else."""
    policy = call.policy
    if not isinstance(policy, RequestPolicy):
        return policy  # --auth off
    context = policy.token.context
    user = relative_reference(context.fhir_user or "", call.services.base) or ""
    if user == f"Patient/{call.id}":
        return policy
    if user.startswith("RelatedPerson/"):
        found = await call.services.storage.queries.find(
            SYSTEM, "RelatedPerson", {"_id": user.split("/", 1)[1]})
        person = found[0].resource if found else {}
        if person.get("active", True) is not False and relative_reference(
                person.get("patient"), call.services.base) == f"Patient/{call.id}":
            return policy
    unrestricted = all(policy.token.unrestricted(t) for t in ("Consent", resource_type))
    if unrestricted and context.kind == "operator":
        return SYSTEM
    view = policy.consent
    if view is not None and view.policy.explain_roles:
        actor = await view.actor(memberships=True)
        if {code for _, code in actor.roles} & view.policy.explain_roles:
            return SYSTEM
    raise Forbidden("$consent-explain is for the patient, their delegates, privacy officers "
                    "(FHIR_CONSENT_EXPLAIN_ROLES) and the server's operators")


def _reference(value: str, base: str, what: str, types: tuple[str, ...] | None) -> str:
    reference = relative_reference(value, base)
    if reference is None or (types is not None and reference.split("/")[0] not in types):
        raise InvalidRequest(f"'{value[:80]}' is not a reference to a {what}")
    return reference


def _parameters(decision: Any, actor: Any, patient: str, purpose: str) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": "decision", "valueCode": decision.outcome},
        {"name": "patient", "valueReference": {"reference": f"Patient/{patient}"}},
        {"name": "purpose", "valueCode": purpose},
    ]
    for reason in decision.reasons:
        parts: list[dict[str, Any]] = [{"name": "effect", "valueCode": reason.effect},
                                       {"name": "text", "valueString": reason.text}]
        if reason.consent:
            parts.insert(0, {"name": "consent", "valueReference": {"reference": reason.consent}})
        if reason.provision:
            parts.insert(1, {"name": "provision", "valueString": reason.provision})
        parameters.append({"name": "reason", "part": parts})
    resolved = [{"name": "reference", "valueReference": {"reference": r}}
                for r in sorted(actor.identities)]
    resolved += [{"name": "role", "valueCoding": {k: v for k, v in (("system", s), ("code", c))
                                                  if v}} for s, c in sorted(
        actor.roles, key=lambda code: (code[0] or "", code[1]))]
    parameters.append({"name": "actor", "part": resolved})
    return {"resourceType": "Parameters", "parameter": parameters}


async def consent_explain(call: OperationCall) -> Response:
    media = check_accept(call.request)
    assert call.id is not None
    arguments = _arguments(call)
    base = call.services.base
    actor_reference = _reference(arguments["actor"], base, "person or organization",
                                 _ACTOR_TYPES)
    target = _reference(arguments["resource"], base, "resource", None)
    purpose = arguments.get("purpose", "TREAT")
    if purpose not in purpose_codes():
        raise InvalidRequest(f"purpose '{purpose[:40]}' is not a v3 PurposeOfUse code")
    resource_type, _, rid = target.partition("/")
    if resource_type not in resource_types():
        raise InvalidRequest(f"'{arguments['resource'][:80]}' is not a reference to a "
                             "resource")
    reader = await _reader(call, resource_type)
    stored = await interactions.read(Caller(call.services, reader), resource_type, rid)
    assert stored.resource is not None
    access = call.services.access
    patients = access.matcher.patients(stored.resource)
    if call.id not in patients:
        raise InvalidRequest(f"{target} is not in the compartment of Patient/{call.id}")
    source = access.source
    rules = await source.rules(patients)
    related = await source.related([r for v in rules.values() for r in v])
    actor = await source.actor(actor_reference, None, memberships=True)
    own = actor_reference.split("/", 1)[1] if actor_reference.startswith("Patient/") else None
    resource = await _unmasked(call, stored.resource)
    decision = decide(resource, rules, AccessRequest(actor, clock.now(), purpose),
                      access.consent_policy, access.matcher, related, own_patient=own)
    return fhir_response(_parameters(decision, actor, call.id, purpose), 200,
                         request=call.request, media_type=media)


async def _unmasked(call: OperationCall, shown: dict[str, Any]) -> dict[str, Any]:
    """The resource as stored, for the decision (the caller has seen it: ``shown`` may be
    its masked copy); only the decision and reasons are returned, never its content."""
    found = await call.services.storage.queries.find(
        SYSTEM, shown["resourceType"], {"_id": shown["id"]})
    return found[0].resource if found else shown


OPERATIONS = [Operation("consent-explain", consent_explain, instance=True,
                        resource_types=frozenset({"Patient"}))]
