"""ORC and OBR to ServiceRequest (V2-to-FHIR IG: ORC[ServiceRequest], OBR[ServiceRequest]);
ORM^O01 and OML^O21 order messages with their ask-at-order-entry OBX and specimens (SPM).

An order's identity is its placer order number (OBR-2, else ORC-2), else its filler number
(OBR-3, else ORC-3), with its service code OBR-4 (results often share one placer number
across OBRs): the ServiceRequest id comes from them, so a later result for the same order
points at the same ServiceRequest.
"""

from __future__ import annotations

from typing import Any

from .. import composites
from ..message import Segment
from .context import MappingContext, MappingError, resource_id
from .encounter import map_encounter
from .groups import OrderGroup, following, order_groups
from .observation import ObservationScope, map_observation
from .participants import practitioner
from .patient import map_patient
from .specimen import map_specimens

__all__ = ["order_numbers", "map_service_request", "map_orders"]


def _number(group: OrderGroup, obr_field: int, orc_field: int) -> Any:
    for segment, number in ((group.primary, obr_field), (group.orc, orc_field)):
        if segment is not None and segment.field(number)[1]:
            return segment.field(number)
    return None


def order_numbers(ctx: MappingContext, group: OrderGroup) -> tuple[
        dict[str, Any] | None, dict[str, Any] | None]:
    """The placer and filler order numbers (EI) of a group, as Identifiers."""
    placer, filler = _number(group, 2, 2), _number(group, 3, 3)
    return (composites.entity_identifier(placer, ctx.tables, "PLAC") if placer else None,
            composites.entity_identifier(filler, ctx.tables, "FILL") if filler else None)


def order_key(ident: dict[str, Any] | None) -> tuple[str, ...]:
    if not ident:
        return ()
    return (ident.get("system") or ident.get("assigner", {}).get("display", ""), ident["value"])


def _status(ctx: MappingContext, group: OrderGroup, default: str) -> str:
    orc = group.orc
    if orc is None:
        return default
    return (ctx.code("OrderStatus", orc[5]) or ctx.code("OrderControlCode_ServiceRequest_status",
                                                       orc[1]) or default)


def _requester(ctx: MappingContext, group: OrderGroup) -> dict[str, str] | None:
    for segment, number in ((group.orc, 12), (group.primary, 16)):
        if segment is not None and segment.field(number):
            return practitioner(ctx, segment.field(number), segment.location())
    return None


def _notes(ctx: MappingContext, segment: Segment) -> list[dict[str, str]]:
    return [{"text": n.field(3).text} for n in following(ctx.message, segment,
                                                         frozenset({"NTE", "PRT"}))
            if n.name == "NTE" and n.field(3).text]


def map_service_request(ctx: MappingContext, group: OrderGroup, *, mode: str = "replace",
                        default_status: str = "active",
                        extra: dict[str, Any] | None = None) -> dict[str, str]:
    """Plan the ServiceRequest of an ORC/OBR group."""
    obr = group.primary
    anchor = obr or group.orc
    assert anchor is not None
    placer, filler = order_numbers(ctx, group)
    code = ctx.concept(obr, 4) if obr is not None else None
    if code is None:
        raise MappingError("OBR-4 (universal service identifier) is required but empty",
                           anchor.location(4) if obr else "OBR", "101")
    key = order_key(placer) or order_key(filler)
    coding = (code.get("coding") or [{}])[0]
    rid = resource_id("ServiceRequest", *key, coding.get("system", ""),
                      coding.get("code", code.get("text", ""))) if key else \
        ctx.local_id("ServiceRequest", anchor)
    group_number = composites.entity_identifier(group.orc.field(4), ctx.tables, "PGN") \
        if group.orc is not None else None
    authored = ctx.date_time(group.orc, 9) if group.orc is not None else None
    body = {
        "identifier": [i for i in (placer, filler) if i],
        "requisition": group_number,
        "status": _status(ctx, group, default_status),
        "intent": "order",
        "code": code,
        "subject": ctx.patient,
        "encounter": ctx.encounter,
        "occurrenceDateTime": ctx.date_time(obr, 7) if obr is not None else None,
        "authoredOn": authored,
        "requester": _requester(ctx, group),
        "reasonCode": ctx.concepts(obr, 31) if obr is not None else [],
        "note": _notes(ctx, obr) if obr is not None else [],
        **(extra or {}),
    }
    return ctx.add("ServiceRequest", rid, body, mode=mode, source=anchor.location())


def map_orders(ctx: MappingContext, event: str) -> None:
    """ORM^O01 / OML^O21: Patient (if absent), Encounter, ServiceRequests with their OBX
    (as supportingInfo) and SPM (as specimen)."""
    map_patient(ctx, replace=False)
    map_encounter(ctx, event, replace=False)
    _, groups = order_groups(ctx.message, "OBR")
    if not groups:
        raise MappingError("The order message has no ORC/OBR order", "ORC", "100")
    for group in groups:
        placer, filler = order_numbers(ctx, group)
        scope = ObservationScope(order_key=order_key(placer) or order_key(filler))
        supporting = [map_observation(ctx, obx, scope) for obx in group.all("OBX")]
        specimens = map_specimens(ctx, group)
        map_service_request(ctx, group, extra={"supportingInfo": supporting,
                                               "specimen": specimens})
