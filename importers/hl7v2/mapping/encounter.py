"""PV1 and PV2 to Encounter (V2-to-FHIR IG: PV1[Encounter], PV2[Encounter]).

The Encounter's id comes from the visit number PV1-19 (else the alternate visit id PV1-50,
else this message), so admit, transfer, update and discharge of one visit reach one record.
Its status follows the trigger event (A01 admit: in-progress, A03 discharge: finished, A11
cancel admit: cancelled, ...) and the patient class (P preadmit: planned).
"""

from __future__ import annotations

from typing import Any

from .. import composites
from ..composites import compact
from ..message import Segment
from .context import MappingContext, resource_id
from .participants import location, practitioner

__all__ = ["map_encounter", "EVENT_STATUS"]

EVENT_STATUS = {
    "A01": "in-progress", "A02": "in-progress", "A03": "finished", "A04": "in-progress",
    "A05": "planned", "A06": "in-progress", "A07": "in-progress", "A11": "cancelled",
    "A12": "in-progress", "A13": "in-progress", "A14": "planned", "A27": "cancelled",
    "A38": "cancelled",
}
_PARTICIPANTS = ((7, "ATND", "attender"), (8, "REF", "referrer"), (9, "CON", "consultant"),
                 (17, "ADM", "admitter"))
_NULL_CLASS = {"system": "http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "code": "UNK",
               "display": "unknown"}


def _class(ctx: MappingContext, pv1: Segment) -> dict[str, str]:
    written = pv1[2]
    concept = ctx.tables.concept("PatientClass_EncounterClass", written) if written else None
    if concept:
        return concept.coding()
    if written:
        return {"system": "http://terminology.hl7.org/CodeSystem/v2-0004", "code": written}
    return dict(_NULL_CLASS)


def _status(ctx: MappingContext, pv1: Segment, event: str) -> str:
    """The event decides (A03 discharged: finished); else discharge date, else the class."""
    if event in EVENT_STATUS:
        return EVENT_STATUS[event]
    if pv1[45]:
        return "finished"
    return ctx.code("PatientClass_EncounterStatus", pv1[2]) or "unknown"


def _participants(ctx: MappingContext, pv1: Segment) -> list[dict[str, Any]]:
    found = []
    for number, code, display in _PARTICIPANTS:
        for value in pv1.repetitions(number):
            who = practitioner(ctx, value, pv1.location())
            if who:
                found.append({"type": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                    "code": code, "display": display}]}], "individual": who})
    return found


def _locations(ctx: MappingContext, pv1: Segment, event: str) -> list[dict[str, Any]]:
    current = location(ctx, pv1.field(3), pv1.location())
    prior = location(ctx, pv1.field(6), pv1.location()) if event == "A02" else None
    found = []
    if current:
        found.append({"location": current,
                      "status": "completed" if event == "A03" else "active"})
    if prior and prior != current:
        found.append({"location": prior, "status": "completed"})
    return found


def _hospitalization(ctx: MappingContext, pv1: Segment, pv2: Segment | None) -> dict[str, Any]:
    return compact({
        "preAdmissionIdentifier": composites.identifier(pv1.field(5), ctx.tables),
        "admitSource": ctx.mapped(pv1, 14, "", "0023"),
        "reAdmission": ctx.mapped(pv1, 13, "", "0092"),
        "dietPreference": ctx.concepts(pv1, 38),
        "specialArrangement": ctx.concepts(pv1, 15),
        "dischargeDisposition": ctx.mapped(pv1, 36, "", "0112"),
        "destination": location(ctx, pv1.field(37), pv1.location()) if pv1[37] else None,
        "specialCourtesy": ctx.concepts(pv1, 16),
    })


def _id(ctx: MappingContext, pv1: Segment) -> tuple[str, list[dict[str, Any]]]:
    """Visit number PV1-19 (else alternate visit id PV1-50) names the Encounter; without
    one, the patient and admit time PV1-44; without that either, this message."""
    visits = [v for v in (composites.identifier(pv1.field(19), ctx.tables, "VN"),
                          composites.identifier(pv1.field(50), ctx.tables)) if v]
    if visits:
        first = visits[0]
        return resource_id("Encounter", first.get("system", ""), first["value"]), visits
    admitted = ctx.date_time(pv1, 44)
    if admitted and ctx.patient:
        return resource_id("Encounter", ctx.patient["reference"], admitted), []
    return ctx.local_id("Encounter", pv1), []


def map_encounter(ctx: MappingContext, event: str, *, replace: bool) -> dict[str, str] | None:
    """Plan the Encounter of the message's PV1 (none when PV1 is absent or empty)."""
    pv1 = ctx.message.first("PV1")
    if pv1 is None or len([f for f in pv1.fields[2:] if f]) == 0:
        return None
    pv2 = ctx.message.first("PV2")
    rid, identifiers = _id(ctx, pv1)
    body = {
        "identifier": identifiers,
        "status": _status(ctx, pv1, event),
        "class": _class(ctx, pv1),
        "type": [c for c in [ctx.mapped(pv1, 4, "AdmissionType", "0007")] if c],
        "serviceType": ctx.mapped(pv1, 10, "", "0069"),
        "priority": ctx.mapped(pv2, 25, "", "0217") if pv2 else None,
        "subject": ctx.patient,
        "participant": _participants(ctx, pv1),
        "period": compact({"start": ctx.date_time(pv1, 44), "end": ctx.date_time(pv1, 45)}),
        "reasonCode": [c for c in [ctx.concept(pv2, 3)] if c] if pv2 else [],
        "hospitalization": _hospitalization(ctx, pv1, pv2),
        "location": _locations(ctx, pv1, event),
    }
    mode = "replace" if replace else "if-absent"
    ctx.encounter = ctx.add("Encounter", rid, body, mode=mode, source=pv1.location())
    return ctx.encounter
