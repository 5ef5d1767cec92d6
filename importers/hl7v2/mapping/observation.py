"""OBX to Observation (V2-to-FHIR IG: OBX[Observation]; value by OBX-2 value type).

NM -> valueQuantity (units OBX-6, UCUM where known), SN -> Quantity/Range/Ratio,
ST/TX/FT -> valueString, CE/CWE/CNE -> valueCodeableConcept, DT/DTM/TS -> valueDateTime,
TM -> valueTime, CX -> valueString (the id); other types keep their text as valueString.
Reference range OBX-7, abnormal flags OBX-8 -> interpretation, result status OBX-11 ->
status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .. import composites, datatypes
from ..message import Segment
from .context import MappingContext, MappingError, resource_id
from .groups import following
from .participants import organization, practitioner

__all__ = ["ObservationScope", "map_observation", "LABORATORY"]

_RANGE = re.compile(r"^\s*(?P<low>[-+]?\d*\.?\d+)?\s*(-|–|to)\s*(?P<high>[-+]?\d*\.?\d+)\s*$",
                    re.IGNORECASE)
_BOUND = re.compile(r"^\s*(?P<op><=|>=|<|>)\s*(?P<value>[-+]?\d*\.?\d+)\s*$")
_TEXT_TYPES = {"ST", "TX", "FT", "IS", "ID"}
_CODED_TYPES = {"CE", "CWE", "CNE", "CF"}
_LAB = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "laboratory", "display": "Laboratory"}]}


@dataclass
class ObservationScope:
    """Where an OBX sits: its order (for ids), fallback code and time, links to add."""

    order_key: tuple[str, ...] = ()
    code: dict[str, Any] | None = None
    effective: str | None = None
    category: dict[str, Any] | None = None
    links: dict[str, Any] = field(default_factory=dict)
    seen: dict[tuple[str, str], int] = field(default_factory=dict)


def _value(ctx: MappingContext, obx: Segment) -> dict[str, Any]:
    value_type = obx[2].upper()
    reps = obx.repetitions(5)
    if not reps:
        return {}
    first = reps[0]
    with ctx.at(obx, 5):
        if value_type == "NM":
            if first.has_parts:
                raise datatypes.DataTypeError(f"'{first.raw[:40]}' is not a number (NM): it "
                                              "has components")
            return {"valueQuantity": _quantity(ctx, obx, datatypes.decimal(first.text))}
        if value_type == "SN":
            kind, number = datatypes.structured_numeric([p.text for p in first.parts()])
            if kind == "Quantity":
                number.update(composites.quantity_unit(obx.field(6), ctx.tables))
            return {f"value{kind}": number}
        if value_type in _CODED_TYPES:
            return {"valueCodeableConcept": composites.codeable_concept(first, ctx.tables)}
        if value_type in ("DT", "DTM", "TS"):
            return {"valueDateTime": datatypes.date_time(first.text, ctx.tables.timezone)}
        if value_type == "TM":
            return {"valueTime": datatypes.time(first.text)}
        if value_type == "CX":
            return {"valueString": "; ".join(r[1] for r in reps if r[1])}
    separator = "\n" if value_type in _TEXT_TYPES else "; "
    text = separator.join(r.text for r in reps if r.text)
    return {"valueString": text} if text else {}


def _quantity(ctx: MappingContext, obx: Segment, number: Any) -> dict[str, Any]:
    return {"value": number, **composites.quantity_unit(obx.field(6), ctx.tables)}


def _reference_range(ctx: MappingContext, obx: Segment) -> list[dict[str, Any]]:
    text = obx.field(7).text
    if not text:
        return []
    unit = composites.quantity_unit(obx.field(6), ctx.tables)
    match = _RANGE.match(text)
    if match and match["low"] is not None:
        return [{"low": {"value": datatypes.decimal(match["low"]), **unit},
                 "high": {"value": datatypes.decimal(match["high"]), **unit}, "text": text}]
    bound = _BOUND.match(text)
    if bound:
        side = "high" if bound["op"].startswith("<") else "low"
        return [{side: {"value": datatypes.decimal(bound["value"]), **unit}, "text": text}]
    return [{"text": text}]


def _interpretation(ctx: MappingContext, obx: Segment) -> list[dict[str, Any]]:
    found = []
    for flag in obx.repetitions(8):
        concept = composites.mapped_code(flag, "InterpretationCodes", ctx.tables,
                                         "http://terminology.hl7.org/CodeSystem/v2-0078")
        if concept:
            found.append(concept)
    return found


def _status(ctx: MappingContext, obx: Segment) -> str:
    return ctx.code("ObservationResultStatusCodesInterpretation", obx[11]) or "unknown"


def _performers(ctx: MappingContext, obx: Segment) -> list[dict[str, str]]:
    found = [practitioner(ctx, v, obx.location()) for v in obx.repetitions(16)]
    found.append(organization(ctx, obx.field(23), obx.location()))
    return [f for f in found if f]


def _code(ctx: MappingContext, obx: Segment, scope: ObservationScope) -> dict[str, Any]:
    code = ctx.concept(obx, 3) or scope.code
    if code is None:
        raise MappingError(f"OBX-3 (observation identifier) of {obx.location()} is required "
                           "but empty", obx.location(3), "101")
    return code


def _id(ctx: MappingContext, obx: Segment, code: dict[str, Any], scope: ObservationScope,
        effective: str | None) -> str:
    """Order + code + sub-id (+ occurrence); without an order, patient + code + sub-id +
    time; without a time either, this message and segment."""
    coding = (code.get("coding") or [{}])[0]
    name = (coding.get("system", ""), coding.get("code") or code.get("text", ""))
    slot = (f"{name[0]}|{name[1]}", obx[4])
    scope.seen[slot] = scope.seen.get(slot, 0) + 1
    if scope.order_key:
        return resource_id("Observation", *scope.order_key, *slot, str(scope.seen[slot]))
    if effective and ctx.patient:
        return resource_id("Observation", ctx.patient["reference"], *slot, effective,
                           str(scope.seen[slot]))
    return ctx.local_id("Observation", obx)


def map_observation(ctx: MappingContext, obx: Segment, scope: ObservationScope) -> dict[str, str]:
    """Plan the Observation of one OBX (with the NTEs that follow it as notes)."""
    code = _code(ctx, obx, scope)
    effective = ctx.date_time(obx, 14) or scope.effective
    notes = [{"text": n.field(3).text} for n in following(ctx.message, obx,
                                                          frozenset({"NTE", "PRT"}))
             if n.name == "NTE" and n.field(3).text]
    body = {
        "identifier": [i for i in [composites.entity_identifier(obx.field(21), ctx.tables)] if i],
        **scope.links,
        "status": _status(ctx, obx),
        "category": [scope.category] if scope.category else [],
        "code": code,
        "subject": ctx.patient,
        "encounter": ctx.encounter,
        "effectiveDateTime": effective,
        "performer": _performers(ctx, obx),
        **_value(ctx, obx),
        "interpretation": _interpretation(ctx, obx),
        "note": notes,
        "method": ctx.concept(obx, 17),
        "referenceRange": _with_location(ctx, obx, 7, _reference_range),
    }
    rid = _id(ctx, obx, code, scope, effective)
    return ctx.add("Observation", rid, body, source=obx.location())


def _with_location(ctx: MappingContext, obx: Segment, number: int, read) -> Any:
    with ctx.at(obx, number):
        return read(ctx, obx)


LABORATORY = _LAB
