"""ORU^R01 (unsolicited observation results) to DiagnosticReport, Observation, Specimen and
the ServiceRequest they answer (V2-to-FHIR IG: ORU_R01 message map, OBR[DiagnosticReport]).

A report's identity is its filler order number (OBR-3, else ORC-3), else its placer number,
with the service code OBR-4: a corrected report replaces the earlier one.
"""

from __future__ import annotations

from ..composites import compact
from ..message import Segment, Value
from .context import MappingContext, MappingError, resource_id
from .encounter import map_encounter
from .groups import OrderGroup, order_groups
from .observation import LABORATORY, ObservationScope, map_observation
from .orders import map_service_request, order_key, order_numbers
from .participants import practitioner
from .patient import map_patient
from .specimen import map_specimens

__all__ = ["map_results"]


def _status(ctx: MappingContext, obr: Segment) -> str:
    return ctx.code("ResultStatus_Non-Queries", obr[25]) or "unknown"


def _interpreters(ctx: MappingContext, obr: Segment) -> list[dict[str, str]]:
    found = []
    for value in obr.repetitions(32):
        person = value.part(1)
        if person:
            found.append(practitioner(ctx, _as_field(person), obr.location()))
    return [f for f in found if f]


def _as_field(component: Value) -> Value:
    """A component with sub-components (e.g. NDL.1 CNN) read as a field with components."""
    return Value(component.raw.replace(component.encoding.subcomponent,
                                       component.encoding.component), component.encoding, 0)


def _report(ctx: MappingContext, group: OrderGroup, obr: Segment,
            observations: list[dict[str, str]], specimens: list[dict[str, str]],
            order: dict[str, str]) -> dict[str, str]:
    placer, filler = order_numbers(ctx, group)
    code = ctx.concept(obr, 4)
    if code is None:
        raise MappingError("OBR-4 (universal service identifier) is required but empty",
                           obr.location(4), "101")
    key = order_key(filler) or order_key(placer)
    coding = (code.get("coding") or [{}])[0]
    rid = resource_id("DiagnosticReport", *key, coding.get("system", ""),
                      coding.get("code", code.get("text", ""))) if key else \
        ctx.local_id("DiagnosticReport", obr)
    start, end = ctx.date_time(obr, 7), ctx.date_time(obr, 8)
    body = {
        "identifier": [i for i in (placer, filler) if i],
        "basedOn": [order],
        "status": _status(ctx, obr),
        "category": [c for c in [ctx.mapped(obr, 24, "", "0074")] if c] or [LABORATORY],
        "code": code,
        "subject": ctx.patient,
        "encounter": ctx.encounter,
        **({"effectivePeriod": {"start": start, "end": end}} if start and end else
           {"effectiveDateTime": start}),
        "issued": ctx.instant(obr, 22),
        "resultsInterpreter": _interpreters(ctx, obr),
        "specimen": specimens,
        "result": observations,
    }
    return ctx.add("DiagnosticReport", rid, compact(body), source=obr.location())


def map_results(ctx: MappingContext, event: str) -> None:
    """Plan Patient (if absent), Encounter (if absent), and per OBR its report."""
    map_patient(ctx, replace=False)
    map_encounter(ctx, event, replace=False)
    before, groups = order_groups(ctx.message, "OBR")
    loose = ObservationScope(category=LABORATORY)
    for obx in (s for s in before if s.name == "OBX"):
        map_observation(ctx, obx, loose)
    if not groups and not any(s.name == "OBX" for s in before):
        raise MappingError("ORU^R01 has no OBR or OBX segment", "OBR", "100")
    for group in groups:
        obr = group.primary
        if obr is None:
            continue
        placer, filler = order_numbers(ctx, group)
        specimens = map_specimens(ctx, group)
        scope = ObservationScope(order_key=order_key(filler) or order_key(placer),
                                 code=ctx.concept(obr, 4), effective=ctx.date_time(obr, 7),
                                 category=LABORATORY,
                                 links={"specimen": specimens[0] if specimens else None})
        observations = [map_observation(ctx, obx, scope) for obx in group.all("OBX")]
        order = map_service_request(ctx, group, mode="if-absent", default_status="completed")
        for observation in observations:
            ctx.writes[observation["reference"]].resource["basedOn"] = [order]
        _report(ctx, group, obr, observations, specimens, order)
