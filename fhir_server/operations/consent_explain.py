"""``GET Patient/[id]/$consent-explain?actor=...&resource=...``: why a consent decision.

For support staff debugging a denial: the decision (``permit``, ``deny``, ``mask``) the
patient's Consents give ``actor`` on ``resource`` (for ``purpose``, default ``TREAT``), and
every provision considered: whether it applied, its effect, or which condition did not
match; plus what the actor was resolved to (PractitionerRoles, Organizations, CareTeams,
Groups, role codes). Nothing of the resource's content is returned.

With ``--auth smart`` the caller needs an unrestricted (``user/`` or ``system/``) read
grant on Consent and on the resource's type.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from consent import AccessRequest, decide, purpose_codes, relative_reference

from .. import clock
from ..auth.context import access_context
from ..auth.grants import Grant, grants_for
from ..errors import Forbidden, InvalidRequest, NotFound
from ..json_io import from_bson
from ..privacy.context import Privacy
from ..privacy.matcher import IndexMatcher
from ..privacy.paths import r4_paths
from ..privacy.store import load_related, load_rules, resolve_actor
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


def _check_caller(call: OperationCall, resource_type: str) -> None:
    if getattr(call.services.settings, "auth", "off") != "smart":
        return
    context = access_context(call.request)
    if context is None or any(grants_for(context, "r", t) != [Grant()]
                              for t in ("Consent", resource_type)):
        raise Forbidden("$consent-explain needs an unrestricted read grant on Consent and "
                        f"{resource_type} (user/ or system/ scopes without a patient)")


def _privacy(call: OperationCall) -> Privacy:
    state = call.request.app.state
    found = getattr(state, "privacy", None)
    if found is not None:
        return found
    base = call.services.base
    matcher = IndexMatcher(base, r4_paths(base), call.services.search.index)
    return Privacy(call.services.db, base, matcher, state.consent_policy)


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
    _check_caller(call, resource_type)
    doc = await call.services.db[resource_type].find_one({"_id": rid}, {"resource": 1})
    if doc is None:
        raise NotFound(f"Resource {target} is not known")
    resource = from_bson(doc["resource"])
    privacy = _privacy(call)
    patients = privacy.matcher.patients(resource)
    if call.id not in patients:
        raise InvalidRequest(f"{target} is not in the compartment of Patient/{call.id}")
    rules = await load_rules(privacy.db, base, patients)
    related = await load_related(privacy.db, base, [r for v in rules.values() for r in v])
    actor = await resolve_actor(privacy.db, base, actor_reference, None, memberships=True)
    own = actor_reference.split("/", 1)[1] if actor_reference.startswith("Patient/") else None
    decision = decide(resource, rules, AccessRequest(actor, clock.now(), purpose),
                      privacy.policy, privacy.matcher, related, own_patient=own)
    return fhir_response(_parameters(decision, actor, call.id, purpose), 200,
                         request=call.request, media_type=media)


OPERATIONS = [Operation("consent-explain", consent_explain, instance=True,
                        resource_types=frozenset({"Patient"}))]
