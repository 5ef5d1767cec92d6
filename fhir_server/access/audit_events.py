"""AuditEvent resources for access decisions (R4 auditevent.html, RESTful operation events).

One AuditEvent per patient whose data a FHIR request read or wrote (one without a patient
when it touched none), so that each patient's access log holds every access to their
record and never mentions another patient: an event names one patient, the resources of
theirs that were decided, and the request URL with other patients' ids blanked out. Each
event tells: who (``agent``: the fhirUser or client, with the token id
as ``policy`` and the purpose of use), what (``entity``: the patients concerned, each
resource decided with its consent decision and reasons, the query of a search), why
(``purposeOfEvent``), and the result (``outcome``: 0 success, 4 refused or invalid, 8
server failure; ``outcomeDesc``: the decision permit / deny / mask / override and its
reasons). A break-glass access carries the stated reason.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from consent.codes import ACT_REASON

from .. import clock

__all__ = ["AccessRecord", "Decided", "audit_events", "SUBTYPES"]

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


def _blanked(text: str, others: set[str]) -> str:
    """``text`` with the ids of ``others`` (other patients) replaced by ``*``."""
    if not others:
        return text
    ids = "|".join(re.escape(p) for p in sorted(others, key=len, reverse=True))
    return re.sub(rf"(?<![A-Za-z0-9.\-])(?:{ids})(?![A-Za-z0-9.\-])", "*", text)


def _is_query(decided: Decided) -> bool:
    return " " in decided.what or "?" in decided.what


def _entities(record: AccessRecord, patient: str | None,
              others: set[str]) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if patient is not None:
        entities.append({"what": {"reference": f"Patient/{patient}"},
                         "type": _coding(_ENTITY_TYPE, "1", "Person"),
                         "role": _coding(_OBJECT_ROLE, "1", "Patient")})
    queries = [d for d in record.decisions if _is_query(d)]
    resources = [d for d in record.decisions if not _is_query(d)
                 and (patient in d.patients if patient is not None else True)]
    for decided in [*resources, *queries][:_MAX_ENTITIES]:
        detail = [{"type": "consent-decision", "valueString": decided.outcome}]
        detail += [{"type": "consent-reason", "valueString": _blanked(r[:500], others)}
                   for r in decided.reasons[:10]]
        if decided not in queries:
            entities.append({"what": {"reference": decided.what},
                             "type": _coding(_ENTITY_TYPE, "2", "System Object"),
                             "role": _coding(_OBJECT_ROLE, "4", "Domain Resource"),
                             "detail": detail})
        else:
            entities.append({"type": _coding(_ENTITY_TYPE, "2", "System Object"),
                             "role": _coding(_OBJECT_ROLE, "24", "Query"),
                             "description": _blanked(decided.what[:1000], others),
                             "detail": detail})
    if record.query is not None and not queries:
        entities.append({"type": _coding(_ENTITY_TYPE, "2", "System Object"),
                         "role": _coding(_OBJECT_ROLE, "24", "Query"),
                         "query": base64.b64encode(
                             _blanked(record.query, others).encode()).decode()})
    if record.break_glass_reason is not None:
        entities.append({"type": _coding(_ENTITY_TYPE, "4", "Other"), "name": "break-glass",
                         "detail": [{"type": "break-glass-reason",
                                     "valueString": record.break_glass_reason}]})
    return entities


def _event(record: AccessRecord, patient: str | None) -> dict[str, Any]:
    others = record.patients - {patient} if patient is not None else set()
    status = record.status
    summary = f"{record.decision}; {record.method} {_blanked(record.url[:500], others)} " \
              f"-> {status}"
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
        "entity": _entities(record, patient, others),
    }


def audit_events(record: AccessRecord) -> list[dict[str, Any]]:
    """The AuditEvents of one request (without id and meta, which the audit trail
    assigns): one per patient touched, or one naming no patient."""
    if not record.patients:
        return [_event(record, None)]
    return [_event(record, patient) for patient in sorted(record.patients)]
