"""ADT (patient administration) events to Patient, Encounter, Condition, AllergyIntolerance
and Coverage (HL7 v2.5.1 chapter 3; V2-to-FHIR IG ADT_A01 and ADT_A39 message maps).

A40 (merge patient identifier list, MRG): the surviving Patient (PID) gets
``link: replaces`` the prior one (MRG-1), and the prior Patient is marked inactive with
``link: replaced-by`` the survivor. No reference elsewhere is rewritten.
"""

from __future__ import annotations

from typing import Any

from ..message import Segment
from .allergies import map_allergies
from .context import MappingContext, MappingError, UnsupportedMessage
from .coverage import map_coverages
from .diagnoses import map_diagnoses
from .encounter import map_encounter
from .observation import ObservationScope, map_observation
from .patient import map_patient, patient_identity

__all__ = ["map_adt", "ADT_EVENTS"]

_VISIT_EVENTS = {"A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A11", "A12", "A13",
                 "A14"}
_PERSON_EVENTS = {"A28", "A31"}
ADT_EVENTS = frozenset(_VISIT_EVENTS | _PERSON_EVENTS | {"A40"})


def map_adt(ctx: MappingContext, event: str) -> None:
    if event not in ADT_EVENTS:
        raise UnsupportedMessage(f"ADT event {event or '(none)'} is not supported "
                                 f"(supported: {', '.join(sorted(ADT_EVENTS))})", "201")
    if event == "A40":
        _merge(ctx)
        return
    map_patient(ctx, replace=True)
    if event in _VISIT_EVENTS:
        map_encounter(ctx, event, replace=True)
    map_diagnoses(ctx)
    map_allergies(ctx)
    map_coverages(ctx)
    scope = ObservationScope()
    for obx in ctx.message.all("OBX"):
        map_observation(ctx, obx, scope)


def _prior(ctx: MappingContext, mrg: Segment):
    for number in (1, 4):
        reps = [r for r in mrg.repetitions(number) if r[1]]
        if reps:
            return reps[0]
    raise MappingError("MRG-1 (prior patient identifier list) is required but empty",
                       mrg.location(1), "101")


def _retire(survivor: dict[str, str], identifier: dict[str, Any]):
    link = {"other": survivor, "type": "replaced-by"}

    def amend(stored: dict[str, Any] | None, planned: dict[str, Any]) -> dict[str, Any]:
        base = stored or {**planned, "identifier": [identifier]}
        links = [entry for entry in base.get("link", []) if entry != link]
        return {**base, "active": False, "link": [*links, link]}

    return amend


def _merge(ctx: MappingContext) -> None:
    pairs = [(s, ctx.message.segments[s.index + 1]) for s in ctx.message.all("PID")
             if s.index + 1 < len(ctx.message.segments)
             and ctx.message.segments[s.index + 1].name == "MRG"]
    if not pairs:
        raise MappingError("ADT^A40 needs a PID followed by an MRG segment", "MRG", "100")
    first: dict[str, str] | None = None
    for pid, mrg in pairs:
        prior_id, prior_identifier = patient_identity(ctx, _prior(ctx, mrg))
        link = {"other": {"reference": f"Patient/{prior_id}"}, "type": "replaces"}
        survivor = map_patient(ctx, replace=True, pid=pid, link=link)
        if survivor["reference"] == f"Patient/{prior_id}":
            raise MappingError("MRG-1 names the surviving patient itself", mrg.location(1))
        ctx.add("Patient", prior_id, {}, mode="amend", source=mrg.location(),
                amend=_retire(survivor, prior_identifier))
        first = first or survivor
    ctx.patient = first
