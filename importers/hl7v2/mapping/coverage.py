"""IN1 to Coverage with its payor Organization (V2-to-FHIR IG: IN1[Coverage])."""

from __future__ import annotations

from typing import Any

from .. import composites
from ..composites import compact
from ..message import Segment
from .context import MappingContext, resource_id
from .participants import organization

__all__ = ["map_coverages"]

_RELATIONSHIP = {"SEL": "self", "SPO": "spouse", "CHD": "child", "DOM": "common",
                 "EME": "other", "PAR": "parent", "FTH": "parent", "MTH": "parent"}


def _payor(ctx: MappingContext, in1: Segment) -> dict[str, str] | None:
    company_ids = in1.repetitions(3)
    company = company_ids[0] if company_ids else None
    name = in1.field(4)
    if company is not None and company[1]:
        ident = composites.identifier(company, ctx.tables)
        assert ident is not None
        rid = resource_id("Organization", ident.get("system") or company.part(4).raw,
                          ident["value"])
        body = {"identifier": [ident], "name": name[1] or None, "active": True}
        reference = ctx.add("Organization", rid, body, mode="if-absent", source=in1.location())
        return {**reference, "display": name[1] or ident["value"]}
    return organization(ctx, name, in1.location())


def _relationship(in1: Segment) -> dict[str, Any] | None:
    code = _RELATIONSHIP.get(in1[17])
    if code is None:
        return None
    return {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                        "code": code}]}


def map_coverages(ctx: MappingContext) -> list[dict[str, str]]:
    """Plan a Coverage per IN1 with a payor; id from policy number, else plan and company."""
    found = []
    for in1 in ctx.message.all("IN1"):
        payor = _payor(ctx, in1)
        if payor is None:
            continue
        policy = in1[36]
        rid = resource_id("Coverage", ctx.patient["reference"] if ctx.patient else "",
                          payor["reference"], policy or in1.raw(2))
        body = {
            "identifier": [{"value": policy}] if policy else [],
            "status": "active",
            "type": ctx.concept(in1, 15),
            "subscriberId": policy or None,
            "beneficiary": ctx.patient,
            "relationship": _relationship(in1),
            "period": compact({"start": ctx.date(in1, 12), "end": ctx.date(in1, 13)}),
            "payor": [payor],
            "class": [c for c in [
                _class("plan", ctx.concept(in1, 2)),
                _class("group", {"text": in1[9] or in1[8]} if in1[8] else None, in1[8])] if c],
        }
        found.append(ctx.add("Coverage", rid, body, source=in1.location()))
    return found


def _class(kind: str, concept: dict[str, Any] | None, value: str = "") -> dict[str, Any] | None:
    if not concept:
        return None
    code = value or ((concept.get("coding") or [{}])[0].get("code")) or concept.get("text")
    return compact({"type": {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": kind}]},
        "value": code, "name": concept.get("text")})
