"""VXU^V04 (unsolicited vaccination record update) to Immunization (V2-to-FHIR IG:
RXA[Immunization], RXR[Immunization]; CDC IIS implementation guide 2.5.1 for the OBX).

Immunization id: the filler order number ORC-3 (the IIS-side id), else the placer number
ORC-2, else patient + vaccine + date. Status from RXA-20 completion status and RXA-21 action
code (D: entered-in-error); refusals (RE) keep their reason RXA-18. The CDC OBX codes become
Immunization fields: 64994-7 program eligibility, 30963-3 funding source, 69764-9 /
29768-9 / 29769-7 / 30956-7 vaccine information statements (education: the document
type is the VIS barcode, else the vaccine type it is about); other OBX become Observations.
"""

from __future__ import annotations

from typing import Any

from .. import composites
from ..composites import compact
from ..message import Segment
from .context import MappingContext, resource_id
from .encounter import map_encounter
from .groups import OrderGroup, order_groups
from .observation import ObservationScope, map_observation
from .participants import location, practitioner
from .patient import map_patient

__all__ = ["map_vaccinations"]

_ELIGIBILITY, _FUNDING, _VIS_BARCODE = "64994-7", "30963-3", "69764-9"
_EDUCATION = {"69764-9": "documentType", "30956-7": "documentType",
              "29768-9": "publicationDate", "29769-7": "presentationDate"}
_FUNCTION = "http://terminology.hl7.org/CodeSystem/v2-0443"


def _id(ctx: MappingContext, group: OrderGroup, rxa: Segment) -> tuple[str, list[Any]]:
    identifiers = []
    if group.orc is not None:
        for number, kind in ((3, "FILL"), (2, "PLAC")):
            ident = composites.entity_identifier(group.orc.field(number), ctx.tables, kind)
            if ident:
                identifiers.append(ident)
    if identifiers:
        first = identifiers[0]
        return resource_id("Immunization", first.get("system") or
                           first.get("assigner", {}).get("display", ""), first["value"]), \
            identifiers
    return resource_id("Immunization", ctx.patient["reference"] if ctx.patient else "",
                       rxa.field(5).raw, rxa[3]), []


def _status(ctx: MappingContext, rxa: Segment) -> str:
    if rxa[21].upper() == "D":
        return "entered-in-error"
    return ctx.code("CompletionStatus", rxa[20]) or "completed"


def _dose(ctx: MappingContext, rxa: Segment) -> dict[str, Any] | None:
    amount = ctx.decimal(rxa, 6)
    if amount is None or rxa[6] == "999":
        return None
    return {"value": amount, **composites.quantity_unit(rxa.field(7), ctx.tables)}


def _performers(ctx: MappingContext, group: OrderGroup, rxa: Segment) -> list[dict[str, Any]]:
    found = []
    for segment, number, code, display in ((rxa, 10, "AP", "Administering Provider"),
                                           (group.orc, 12, "OP", "Ordering Provider")):
        if segment is None:
            continue
        for value in segment.repetitions(number):
            actor = practitioner(ctx, value, segment.location())
            if actor:
                found.append({"function": {"coding": [{"system": _FUNCTION, "code": code,
                                                       "display": display}]}, "actor": actor})
    return found


def _manufacturer(ctx: MappingContext, rxa: Segment) -> dict[str, str] | None:
    value = rxa.field(17)
    if not value[1] and not value[2]:
        return None
    system = ctx.tables.coding_system(value[3] or "MVX")
    ident = compact({"system": system, "value": value[1]}) if value[1] else None
    rid = resource_id("Organization", system or "", value[1] or value[2])
    body = {"identifier": [ident] if ident else [], "name": value[2] or value[1], "active": True}
    reference = ctx.add("Organization", rid, body, mode="if-absent", source=rxa.location())
    return {**reference, "display": value[2] or value[1]}


def _observation_fields(ctx: MappingContext, group: OrderGroup, scope: ObservationScope
                        ) -> dict[str, Any]:
    fields: dict[str, Any] = {"programEligibility": [], "education": []}
    statements: dict[str, dict[str, Any]] = {}
    for obx in group.all("OBX"):
        code = obx.field(3)[1]
        if code == _ELIGIBILITY and ctx.concept(obx, 5):
            fields["programEligibility"].append(ctx.concept(obx, 5))
        elif code == _FUNDING and ctx.concept(obx, 5):
            fields["fundingSource"] = ctx.concept(obx, 5)
        elif code in _EDUCATION and _fits(obx, _EDUCATION[code]):
            statement = statements.setdefault(obx[4] or str(obx.sequence), {"_sources": []})
            value = _education_value(ctx, obx, code)
            if code == _VIS_BARCODE or _EDUCATION[code] not in statement:
                statement[_EDUCATION[code]] = value
            statement["_sources"].append(obx)
        else:
            map_observation(ctx, obx, scope)
    for statement in statements.values():
        sources = statement.pop("_sources")
        if statement.get("documentType") or statement.get("reference"):
            fields["education"].append(compact(statement))
        else:
            for obx in sources:  # imm-1: a statement needs its document; keep the OBX as is
                map_observation(ctx, obx, scope)
    return fields


def _fits(obx: Segment, element: str) -> bool:
    """Whether the OBX value type suits the education element (a date needs DT/TS/DTM)."""
    dated = element in ("publicationDate", "presentationDate")
    return dated == (obx[2].upper() in ("DT", "TS", "DTM"))


def _education_value(ctx: MappingContext, obx: Segment, code: str) -> str | None:
    """A VIS date, the VIS barcode (its code), or the vaccine type (its name)."""
    if _EDUCATION[code] in ("publicationDate", "presentationDate"):
        return ctx.date_time(obx, 5)
    value = obx.field(5)
    return value[1] or value[2] if code == _VIS_BARCODE else value[2] or value[1]


def _immunization(ctx: MappingContext, group: OrderGroup, rxa: Segment) -> dict[str, str]:
    rid, identifiers = _id(ctx, group, rxa)
    rxr = group.first("RXR")
    status = _status(ctx, rxa)
    origin = rxa.field(9)
    ctx.require(rxa, 5, "administered code")
    ctx.require(rxa, 3, "date/time start of administration")
    scope = ObservationScope(order_key=(rid,),
                             links={"partOf": [{"reference": f"Immunization/{rid}"}]})
    body = {
        "identifier": identifiers,
        "status": status,
        "statusReason": ctx.concept(rxa, 18) if status == "not-done" else None,
        "vaccineCode": ctx.concept(rxa, 5),
        "patient": ctx.patient,
        "encounter": ctx.encounter,
        "occurrenceDateTime": ctx.date_time(rxa, 3),
        "primarySource": origin[1] == "00" if origin[1] in ("00", "01") else None,
        "reportOrigin": ctx.concept(rxa, 9) if origin[1] and origin[1] != "00" else None,
        "location": location(ctx, rxa.field(11), rxa.location()),
        "manufacturer": _manufacturer(ctx, rxa),
        "lotNumber": rxa.field(15).text or None,
        "expirationDate": ctx.date(rxa, 16),
        "site": ctx.concept(rxr, 2) if rxr else None,
        "route": ctx.concept(rxr, 1) if rxr else None,
        "doseQuantity": _dose(ctx, rxa),
        "performer": _performers(ctx, group, rxa),
        "reasonCode": ctx.concepts(rxa, 19),
        "isSubpotent": True if rxa[20] == "PA" else None,
        **_observation_fields(ctx, group, scope),
    }
    return ctx.add("Immunization", rid, body, source=rxa.location())


def map_vaccinations(ctx: MappingContext, event: str) -> None:
    map_patient(ctx, replace=False)
    map_encounter(ctx, event, replace=False)
    _, groups = order_groups(ctx.message, "RXA")
    for group in groups:
        if group.primary is not None:
            _immunization(ctx, group, group.primary)
