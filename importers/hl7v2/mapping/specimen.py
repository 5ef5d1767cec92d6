"""SPM to Specimen (V2-to-FHIR IG: SPM[Specimen])."""

from __future__ import annotations

from typing import Any

from .. import composites
from ..composites import compact
from ..message import Segment
from .context import MappingContext, resource_id
from .groups import OrderGroup

__all__ = ["map_specimens"]


def _identifiers(ctx: MappingContext, spm: Segment) -> list[dict[str, Any]]:
    eip = spm.field(2)
    found = [composites.entity_identifier(eip.part(1), ctx.tables, "PLAC"),
             composites.entity_identifier(eip.part(2), ctx.tables, "FILL")]
    return [i for i in found if i]


def _collection(ctx: MappingContext, spm: Segment) -> dict[str, Any]:
    start = ctx.date_time(spm, 17, 1)
    end = ctx.date_time(spm, 17, 2)
    amount = spm.field(12)
    quantity = None
    if amount[1]:
        with ctx.at(spm, 12):
            quantity = {"value": ctx.decimal(spm, 12),
                        **composites.quantity_unit(amount.part(2), ctx.tables)}
    timing = {"collectedPeriod": {"start": start, "end": end}} if start and end else \
        {"collectedDateTime": start}
    return compact({**timing, "method": ctx.concept(spm, 7), "bodySite": ctx.concept(spm, 8),
                    "quantity": quantity})


def map_specimens(ctx: MappingContext, group: OrderGroup) -> list[dict[str, str]]:
    found = []
    for spm in group.all("SPM"):
        identifiers = _identifiers(ctx, spm)
        first = identifiers[0] if identifiers else None
        rid = resource_id("Specimen", first.get("system", ""), first["value"]) if first else \
            ctx.local_id("Specimen", spm)
        body = {
            "identifier": identifiers,
            "type": ctx.concept(spm, 4),
            "subject": ctx.patient,
            "receivedTime": ctx.date_time(spm, 18),
            "collection": _collection(ctx, spm),
            "condition": ctx.concepts(spm, 24),
        }
        found.append(ctx.add("Specimen", rid, body, source=spm.location()))
    return found
