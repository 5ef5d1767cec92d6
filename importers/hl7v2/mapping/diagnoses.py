"""DG1 to Condition and Encounter.diagnosis (V2-to-FHIR IG: DG1[Condition])."""

from __future__ import annotations

from typing import Any

from .. import composites
from ..message import Segment
from .context import MappingContext, resource_id
from .participants import practitioner

__all__ = ["map_diagnoses"]

_CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                         "code": "encounter-diagnosis", "display": "Encounter Diagnosis"}]}


def _code(ctx: MappingContext, dg1: Segment) -> dict[str, Any] | None:
    concept = ctx.concept(dg1, 3)
    description = dg1.field(4).text
    if concept is None:
        return {"text": description} if description else None
    if description and "text" not in concept:
        concept["text"] = description
    return concept


def _id(ctx: MappingContext, dg1: Segment, code: dict[str, Any]) -> tuple[str, list[Any]]:
    ident = composites.entity_identifier(dg1.field(20), ctx.tables)
    if ident:
        return resource_id("Condition", ident.get("system", ""), ident["value"]), [ident]
    coding = (code.get("coding") or [{}])[0]
    return resource_id("Condition", ctx.patient["reference"] if ctx.patient else "",
                       (ctx.encounter or {}).get("reference", ""), coding.get("system", ""),
                       coding.get("code", code.get("text", ""))), []


def map_diagnoses(ctx: MappingContext) -> list[dict[str, str]]:
    """Plan a Condition per DG1 and list them on the Encounter with use and rank."""
    diagnoses: list[dict[str, Any]] = []
    for dg1 in ctx.message.all("DG1"):
        code = _code(ctx, dg1)
        if code is None:
            continue
        rid, identifiers = _id(ctx, dg1, code)
        clinician = practitioner(ctx, dg1.field(16), dg1.location())
        body = {
            "identifier": identifiers,
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "category": [_CATEGORY],
            "code": code,
            "subject": ctx.patient,
            "encounter": ctx.encounter,
            "onsetDateTime": ctx.date_time(dg1, 5),
            "recordedDate": ctx.date_time(dg1, 19),
            "asserter": clinician,
        }
        reference = ctx.add("Condition", rid, body, source=dg1.location())
        use = ctx.mapped(dg1, 6, "DiagnosisType", "0052")
        rank = dg1[15]
        diagnoses.append({"condition": reference, "use": use,
                          "rank": int(rank) if rank.isdigit() and int(rank) > 0 else None})
    if ctx.encounter and diagnoses:
        encounter = ctx.writes[ctx.encounter["reference"]].resource
        encounter["diagnosis"] = [{k: v for k, v in d.items() if v} for d in diagnoses]
    return [d["condition"] for d in diagnoses]
