"""RDE^O11 (pharmacy encoded order, RXE) and OMP^O09 (pharmacy order, RXO) to
MedicationRequest (V2-to-FHIR IG: ORC[MedicationRequest], RXE[MedicationRequest],
RXO[MedicationRequest], RXR[MedicationRequest.dosageInstruction], TQ1[Timing]).

MedicationRequest id: the placer order number ORC-2, else the filler number ORC-3.
"""

from __future__ import annotations

from typing import Any

from .. import composites
from ..composites import compact
from ..message import Segment
from .context import MappingContext, MappingError, resource_id
from .encounter import map_encounter
from .groups import OrderGroup, following, order_groups
from .participants import practitioner
from .patient import map_patient

__all__ = ["map_pharmacy_orders"]

# Field numbers of the same facts in RXE (encoded order) and RXO (order): code, minimum and
# maximum amount, units, administration instructions, substitution, dispense amount and
# units, refills, ordering provider.
_RXE = {"code": 2, "min": 3, "max": 4, "units": 5, "instructions": 7, "substitution": 9,
        "dispense": 10, "dispense_units": 11, "refills": 12, "provider": 13}
_RXO = {"code": 1, "min": 2, "max": 3, "units": 4, "instructions": 7, "substitution": 9,
        "dispense": 11, "dispense_units": 12, "refills": 13, "provider": 14}


def _identity(ctx: MappingContext, group: OrderGroup, anchor: Segment
              ) -> tuple[str, list[dict[str, Any]]]:
    identifiers = []
    if group.orc is not None:
        for number, kind in ((2, "PLAC"), (3, "FILL")):
            ident = composites.entity_identifier(group.orc.field(number), ctx.tables, kind)
            if ident:
                identifiers.append(ident)
    if identifiers:
        first = identifiers[0]
        return resource_id("MedicationRequest", first.get("system") or
                           first.get("assigner", {}).get("display", ""), first["value"]), \
            identifiers
    return ctx.local_id("MedicationRequest", anchor), []


def _timing(ctx: MappingContext, tq1: Segment | None) -> dict[str, Any] | None:
    if tq1 is None:
        return None
    repeat = composites.codeable_concept(tq1.field(3).part(1), ctx.tables)
    bounds = compact({"start": ctx.date_time(tq1, 7), "end": ctx.date_time(tq1, 8)})
    return compact({
        "code": repeat,
        "repeat": {"boundsPeriod": bounds} if bounds else None,
    }) or None


def _dose(ctx: MappingContext, order: Segment, fields: dict[str, int]) -> dict[str, Any]:
    units = composites.quantity_unit(order.field(fields["units"]), ctx.tables)
    low = ctx.decimal(order, fields["min"])
    high = ctx.decimal(order, fields["max"])
    if low is not None and high is not None and high != low:
        return {"doseRange": {"low": {"value": low, **units}, "high": {"value": high, **units}}}
    if low is not None:
        return {"doseQuantity": {"value": low, **units}}
    return {}


def _nearest(group: OrderGroup, name: str, order: Segment) -> Segment | None:
    """The ``name`` segment after the order segment (RDE: RXE's own TQ1/RXR), else the
    first in the group."""
    after = [s for s in group.all(name) if s.index > order.index]
    return after[0] if after else group.first(name)


def _dosage(ctx: MappingContext, group: OrderGroup, order: Segment,
            fields: dict[str, int]) -> dict[str, Any] | None:
    rxr = _nearest(group, "RXR", order)
    instructions = "; ".join(
        v.first_text if not v[2] else v[2] for v in order.repetitions(fields["instructions"]))
    dose = _dose(ctx, order, fields)
    dosage = compact({
        "text": instructions or None,
        "timing": _timing(ctx, _nearest(group, "TQ1", order)),
        "route": ctx.concept(rxr, 1) if rxr else None,
        "site": ctx.concept(rxr, 2) if rxr else None,
        "method": ctx.concept(rxr, 4) if rxr else None,
        "doseAndRate": [dose] if dose else [],
    })
    return dosage or None


def _dispense(ctx: MappingContext, order: Segment, fields: dict[str, int]) -> dict[str, Any]:
    amount = ctx.decimal(order, fields["dispense"])
    refills = order[fields["refills"]]
    return compact({
        "quantity": {"value": amount, **composites.quantity_unit(
            order.field(fields["dispense_units"]), ctx.tables)} if amount is not None else None,
        "numberOfRepeatsAllowed": int(refills) if refills.isdigit() else None,
    })


def _status(ctx: MappingContext, group: OrderGroup) -> str:
    orc = group.orc
    if orc is None:
        return "active"
    return (ctx.code("OrderStatus", orc[5]) or
            ctx.code("OrderControlCode_ServiceRequest_status", orc[1]) or "active")


def _requester(ctx: MappingContext, group: OrderGroup, order: Segment,
               fields: dict[str, int]) -> dict[str, str] | None:
    if group.orc is not None and group.orc.field(12):
        return practitioner(ctx, group.orc.field(12), group.orc.location())
    return practitioner(ctx, order.field(fields["provider"]), order.location())


def _medication_request(ctx: MappingContext, group: OrderGroup, order: Segment) -> None:
    fields = _RXE if order.name == "RXE" else _RXO
    code = ctx.concept(order, fields["code"])
    if code is None:
        where = order.location(fields["code"])
        raise MappingError(f"{where} (give/requested code) is required but empty", where, "101")
    rid, identifiers = _identity(ctx, group, order)
    substitution = order[fields["substitution"]].upper()
    notes = [{"text": n.field(3).text} for n in following(ctx.message, order,
                                                          frozenset({"NTE", "PRT"}))
             if n.name == "NTE" and n.field(3).text]
    dosage = _dosage(ctx, group, order, fields)
    body = {
        "identifier": identifiers,
        "status": _status(ctx, group),
        "intent": "order",
        "medicationCodeableConcept": code,
        "subject": ctx.patient,
        "encounter": ctx.encounter,
        "authoredOn": ctx.date_time(group.orc, 9) if group.orc is not None else None,
        "requester": _requester(ctx, group, order, fields),
        "note": notes,
        "dosageInstruction": [dosage] if dosage else [],
        "dispenseRequest": _dispense(ctx, order, fields),
        "substitution": {"allowedBoolean": substitution != "N"} if substitution else None,
    }
    ctx.add("MedicationRequest", rid, body, source=order.location())


def map_pharmacy_orders(ctx: MappingContext, event: str) -> None:
    """RDE^O11 (one MedicationRequest per RXE) and OMP^O09 (per RXO)."""
    map_patient(ctx, replace=False)
    map_encounter(ctx, event, replace=False)
    primary = "RXE" if ctx.message.message_code == "RDE" else "RXO"
    _, groups = order_groups(ctx.message, primary)
    orders = [g for g in groups if g.primary is not None]
    if not orders:
        raise MappingError(f"The pharmacy order has no {primary} segment", primary, "100")
    for group in orders:
        assert group.primary is not None
        _medication_request(ctx, group, group.primary)
