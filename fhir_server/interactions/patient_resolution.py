"""Which stored Patient an incoming patient record is: the decision the HL7 v2 feed and
``fhir-server load`` take before they write, so that one person keeps one record.

In order (docs/identity.md, "Feeds"):

1. ``known``: the incoming id is a stored Patient (the same source sent it before);
2. ``alias``: an earlier resolution or a reviewer's decision says which Patient it is
   (``patient_aliases``); a rejection means "a person of its own": create it;
3. ``identifier``: exactly one Patient holds one of its identifiers that have a system
   (following ``replaced-by`` links of merged records); several: review;
4. ``match``: exactly one ``certain`` ``$match`` candidate; ``probable`` ones (or several
   certain): review;
5. ``new``: nobody: create the incoming record.

Identifier and match resolutions are remembered as aliases. A record held for review is
put in the review queue (:mod:`fhir_server.storage.patient_review`) with its candidates;
``fhir-server review`` lists and decides. Everything runs with the caller's policy (the
feeds pass :data:`~fhir_server.access.SYSTEM`: a trusted feed must see every patient to
avoid creating one twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from importers.hl7v2.patients import PatientResolution

from ..errors import Gone, NotFound
from .caller import Caller
from .match import Match, match_patients, replaced_by

__all__ = ["Resolution", "resolve_patient", "hold_for_review", "FeedPatients"]

_HOPS = 5
_REVIEWED_GRADES = ("certain", "probable")


@dataclass(frozen=True)
class Resolution:
    """``how`` the record was placed; ``target`` the stored Patient id to use (None:
    create the incoming record); ``held`` the reason it waits for review."""

    how: str
    target: str | None = None
    held: str | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)


def _summary(matches: list[Match]) -> list[dict[str, Any]]:
    """``{reference, grade, score}`` of each candidate, for the review queue."""
    return [{"reference": f"Patient/{m.resource['id']}", "grade": m.result.grade,
             "score": m.result.score} for m in matches]


async def _exists(caller: Caller, rid: str) -> bool:
    try:
        await caller.resources.read(caller.policy, "Patient", rid)
    except (NotFound, Gone):
        return False
    return True


async def _survivor(caller: Caller, rid: str) -> str:
    """The Patient ``rid`` was merged into, following ``replaced-by`` links."""
    for _ in range(_HOPS):
        try:
            stored = await caller.resources.read(caller.policy, "Patient", rid)
        except (NotFound, Gone):
            return rid
        reference = replaced_by(stored.resource or {})
        if reference is None or not reference.startswith("Patient/"):
            return rid
        rid = reference.removeprefix("Patient/")
    return rid


def _escaped(value: str) -> str:
    for char in ("\\", "|", ",", "$"):
        value = value.replace(char, "\\" + char)
    return value


async def _holders(caller: Caller, patient: dict[str, Any]) -> set[str]:
    """The Patients holding any of the record's identifiers that have a system."""
    tokens = sorted({f"{_escaped(i['system'])}|{_escaped(i['value'])}"
                     for i in patient.get("identifier") or [] if isinstance(i, dict)
                     and isinstance(i.get("system"), str) and isinstance(i.get("value"), str)})
    if not tokens:
        return set()
    found = await caller.services.search.match_ids(caller.policy, "Patient",
                                                   [("identifier", ",".join(tokens))], 20)
    return {await _survivor(caller, rid) for rid in found}


async def resolve_patient(caller: Caller, patient: dict[str, Any]) -> Resolution:
    """Where the incoming ``patient`` (with the id its source gives it) belongs."""
    rid = patient.get("id")
    review = caller.services.storage.patient_review
    if isinstance(rid, str) and await _exists(caller, rid):
        return Resolution("known", rid)
    alias = await review.alias(rid) if isinstance(rid, str) else None
    if alias is not None:
        return Resolution("alias", None if alias == rid else await _survivor(caller, alias))
    holders = await _holders(caller, patient)
    if len(holders) == 1:
        return await _remembered(caller, rid, Resolution("identifier", holders.pop()))
    if holders:
        return Resolution("held", held="several Patients hold its identifiers", candidates=[
            {"reference": f"Patient/{h}", "grade": "identifier", "score": None}
            for h in sorted(holders)])
    matches = await match_patients(caller, patient)
    certain = [m for m in matches if m.result.grade == "certain"]
    reviewed = [m for m in matches if m.result.grade in _REVIEWED_GRADES]
    if len(certain) == 1:
        return await _remembered(caller, rid, Resolution("match", certain[0].resource["id"],
                                                         candidates=_summary(certain)))
    if reviewed:
        why = "several certain matches" if certain else "a probable match"
        return Resolution("held", held=why, candidates=_summary(reviewed))
    return Resolution("new")


async def _remembered(caller: Caller, rid: Any, resolution: Resolution) -> Resolution:
    if isinstance(rid, str) and resolution.target and resolution.target != rid:
        await caller.services.storage.patient_review.record_alias(rid, resolution.target,
                                                                  resolution.how)
    return resolution


async def hold_for_review(caller: Caller, patient: dict[str, Any], resolution: Resolution,
                          *, source: str, held: dict[str, Any]) -> str:
    """Put the incoming record in the review queue (or add ``held`` to its item); the
    item's key."""
    key = f"Patient/{patient.get('id')}"
    await caller.services.storage.patient_review.hold(
        key, source=source, patient=patient, candidates=resolution.candidates,
        reason=resolution.held or "", held=held)
    return key


class FeedPatients:
    """The HL7 v2 feed's :class:`importers.hl7v2.patients.PatientDirectory`: resolves a
    message's patient as ``caller`` (the server itself), holding unsure ones for review."""

    def __init__(self, caller: Caller) -> None:
        self.caller = caller

    async def resolve_patient(self, patient: dict[str, Any], *,
                              message_key: str) -> PatientResolution:
        resolution = await resolve_patient(self.caller, patient)
        if resolution.held is not None:
            await hold_for_review(self.caller, patient, resolution, source="hl7",
                                  held={"kind": "hl7", "key": message_key})
            return PatientResolution(held=resolution.held)
        return PatientResolution(target=resolution.target)
