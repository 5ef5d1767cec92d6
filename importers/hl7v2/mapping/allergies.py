"""AL1 to AllergyIntolerance (V2-to-FHIR IG: AL1[AllergyIntolerance])."""

from __future__ import annotations

from .context import MappingContext, resource_id

__all__ = ["map_allergies"]

_ACTIVE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                       "code": "active"}]}


def map_allergies(ctx: MappingContext) -> list[dict[str, str]]:
    """Plan an AllergyIntolerance per AL1: one per patient and allergen code."""
    found = []
    for al1 in ctx.message.all("AL1"):
        code = ctx.concept(al1, 3)
        if code is None:
            continue
        coding = (code.get("coding") or [{}])[0]
        rid = resource_id("AllergyIntolerance", ctx.patient["reference"] if ctx.patient else "",
                          coding.get("system", ""), coding.get("code", code.get("text", "")))
        category = ctx.code("AllergenType_AllergyIntoleranceCategory", al1[2])
        reactions = [{"manifestation": [{"text": r.text}]} for r in al1.repetitions(5) if r.text]
        body = {
            "clinicalStatus": _ACTIVE,
            "type": "allergy" if al1[2] not in ("MC",) else "intolerance",
            "category": [category] if category else [],
            "criticality": ctx.code("AllergySeverity_AllergyIntolerance_criticality", al1[4]),
            "code": code,
            "patient": ctx.patient,
            "onsetDateTime": ctx.date_time(al1, 6),
            "reaction": reactions,
        }
        found.append(ctx.add("AllergyIntolerance", rid, body, source=al1.location()))
    return found
