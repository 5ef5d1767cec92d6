"""AuditEvent resources for access decisions (R4 auditevent.html, RESTful operation events).

One AuditEvent per FHIR request: who (``agent``: the fhirUser or client, with the token id
as ``policy`` and the purpose of use), what (``entity``: the patients concerned, each
resource decided with its consent decision and reasons, the query of a search), why
(``purposeOfEvent``), and the result (``outcome``: 0 success, 4 refused or invalid, 8
server failure; ``outcomeDesc``: the decision permit / deny / mask / override and its
reasons). A break-glass access carries the stated reason.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from typing import Any

from consent.codes import ACT_REASON

from .. import clock

__all__ = ["AccessRecord", "Decided", "audit_event", "SUBTYPES"]

_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
_OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
_CLIENT_ID = "urn:ietf:params:oauth:client-id"
_MAX_ENTITIES = 50
_ACTION = {"create": "C", "read": "R", "vread": "R", "search": "R", "history": "R",
           "update": "U", "patch": "U", "delete": "D"}
SUBTYPES = ("read", "vread", "update", "patch", "delete", "history", "history-instance",
            "history-type", "history-system", "create", "search", "search-type",
            "search-system", "capabilities", "transaction", "batch", "operation")


@dataclass(frozen=True)
class Decided:
    """One decision: ``outcome`` on ``what`` (``Type/id`` or a query), with reasons."""

    outcome: str
    what: str
    patients: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


@dataclass
class AccessRecord:
    """What happened in one request, as the AuditEvent tells it."""

    subtype: str
    method: str
    url: str
    status: int
    purpose: str
    client: str
    actor: str | None = None
    token_id: str | None = None
    query: str | None = None
    break_glass_reason: str | None = None
    patients: set[str] = field(default_factory=set)
    decisions: list[Decided] = field(default_factory=list)

    @property
    def decision(self) -> str:
        outcomes = {d.outcome for d in self.decisions}
        return next((o for o in ("deny", "override", "mask") if o in outcomes), "permit")


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    return {**coding, "display": display} if display else coding


def _agents(record: AccessRecord) -> list[dict[str, Any]]:
    purpose = [{"coding": [_coding(ACT_REASON, record.purpose)]}]
    client = {"identifier": {"system": _CLIENT_ID, "value": record.client}}
    who = {"reference": record.actor} if record.actor else client
    person: dict[str, Any] = {"who": who, "requestor": True, "purposeOfUse": purpose}
    if record.token_id:
        person["policy"] = [f"urn:uuid:{uuid.UUID(hex=record.token_id)}"
                            if _is_hex_uuid(record.token_id) else f"urn:jti:{record.token_id}"]
    agents = [person]
    if record.actor:
        agents.append({"who": client, "requestor": False, "type": {"coding": [_coding(
            "http://dicom.nema.org/resources/ontology/DCM", "110150", "Application")]}})
    return agents


def _is_hex_uuid(value: str) -> bool:
    try:
        uuid.UUID(hex=value)
    except ValueError:
        return False
    return len(value) == 32


def _entities(record: AccessRecord) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = [
        {"what": {"reference": f"Patient/{p}"},
         "type": _coding(_ENTITY_TYPE, "1", "Person"),
         "role": _coding(_OBJECT_ROLE, "1", "Patient")}
        for p in sorted(record.patients)]
    for decided in record.decisions[:_MAX_ENTITIES]:
        detail = [{"type": "consent-decision", "valueString": decided.outcome}]
        detail += [{"type": "consent-reason", "valueString": r[:500]}
                   for r in decided.reasons[:10]]
        if "/" in decided.what and " " not in decided.what and "?" not in decided.what:
            entities.append({"what": {"reference": decided.what},
                             "type": _coding(_ENTITY_TYPE, "2", "System Object"),
                             "role": _coding(_OBJECT_ROLE, "4", "Domain Resource"),
                             "detail": detail})
        else:
            entities.append({"type": _coding(_ENTITY_TYPE, "2", "System Object"),
                             "role": _coding(_OBJECT_ROLE, "24", "Query"),
                             "description": decided.what[:1000], "detail": detail})
    if record.query is not None and not any(
            e.get("role", {}).get("code") == "24" for e in entities):
        entities.append({"type": _coding(_ENTITY_TYPE, "2", "System Object"),
                         "role": _coding(_OBJECT_ROLE, "24", "Query"),
                         "query": base64.b64encode(record.query.encode()).decode()})
    if record.break_glass_reason is not None:
        entities.append({"type": _coding(_ENTITY_TYPE, "4", "Other"), "name": "break-glass",
                         "detail": [{"type": "break-glass-reason",
                                     "valueString": record.break_glass_reason}]})
    return entities


def audit_event(record: AccessRecord) -> dict[str, Any]:
    """The AuditEvent (without id and meta, which the audit trail assigns)."""
    status = record.status
    summary = f"{record.decision}; {record.method} {record.url[:500]} -> {status}"
    if record.break_glass_reason is not None:
        summary += f"; break-glass: {record.break_glass_reason}"
    return {
        "resourceType": "AuditEvent",
        "type": _coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest",
                        "RESTful Operation"),
        "subtype": [_coding("http://hl7.org/fhir/restful-interaction", record.subtype)],
        "action": _ACTION.get(record.subtype.split("-")[0], "E"),
        "recorded": clock.to_instant(clock.now()),
        "outcome": "0" if status < 400 else "4" if status < 500 else "8",
        "outcomeDesc": summary,
        "purposeOfEvent": [{"coding": [_coding(ACT_REASON, record.purpose)]}],
        "agent": _agents(record),
        "source": {"observer": {"display": "fhir-server"},
                   "type": [_coding("http://terminology.hl7.org/CodeSystem/security-source-type",
                                    "4", "Application Server")]},
        "entity": _entities(record),
    }
