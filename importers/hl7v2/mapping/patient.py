"""PID, PD1 and NK1 to Patient (V2-to-FHIR IG: PID[Patient], PD1[Patient], NK1[Patient]).

The Patient's id comes from its primary identifier (the first PID-3 medical record number,
else the first PID-3, PID-2 or PID-4), so every message about that person reaches one record.
A patient identifier (PID-2/3/4, MRG) sent without an assigning authority (CX.4) gets the
sending facility's (MSH-4) fallback system (``identifier_systems.by_facility``, else the
``facility_default`` template): a medical record number is unique only within the facility
that assigned it, so two facilities' MRN 1001 are two people. The server then resolves the
mapped Patient to a stored one (``importers/hl7v2/patients.py``). ADT messages replace the
demographics (keeping ``Patient.link`` from merges, and identifiers of systems the message
does not carry, such as the health ID); other messages only create the Patient when it is
not known yet.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from .. import composites
from ..composites import compact
from ..message import Segment, Value
from .context import MappingContext, MappingError, resource_id
from .participants import organization, practitioner

__all__ = ["map_patient", "patient_identity", "keep_links"]

_ORIGINAL_TEXT = "http://hl7.org/fhir/StructureDefinition/originalText"
_BIRTH_TIME = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
_MAIDEN_NAME = "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"
_RELIGION = "http://hl7.org/fhir/StructureDefinition/patient-religion"
_BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
_YES_NO = {"Y": True, "YES": True, "N": False, "NO": False}  # HL7 table 0136, spelled out too


def _primary(pid: Segment) -> tuple[int, Value] | None:
    for number in (3, 2, 4):
        reps = [r for r in pid.repetitions(number) if r[1]]
        if reps:
            medical = [r for r in reps if r[5] == "MR"]
            return number, (medical or reps)[0]
    return None


def _facility_system(ctx: MappingContext, cx: Value) -> str | None:
    """The sending facility's system for its own patient identifiers (None: not set)."""
    facility_hd = ctx.message.msh.field(4)
    facility = facility_hd[1] or facility_hd[2]
    config = ctx.tables.identifier_systems
    if not facility:
        return None
    template = (config.get("by_facility") or {}).get(facility) or config.get("facility_default")
    if not template:
        return None
    return template.format(facility=quote(facility, safe=""),
                           type=quote(cx[5], safe="")).rstrip(":")


def patient_identifier(cx: Value, tables: Any, ctx: MappingContext) -> dict[str, Any] | None:
    """A patient identifier (CX); without an assigning authority (CX.4), with the sending
    facility's fallback system."""
    ident = composites.identifier(cx, tables)
    if ident is not None and "system" not in ident and not cx.part(4).raw:
        system = _facility_system(ctx, cx)
        if system:
            ident["system"] = system
    return ident


def patient_identity(ctx: MappingContext, cx: Value) -> tuple[str, dict[str, Any]]:
    """The Patient id and Identifier for a patient identifier (CX)."""
    ident = patient_identifier(cx, ctx.tables, ctx)
    assert ident is not None
    return resource_id("Patient", ident.get("system") or cx.part(4).raw, ident["value"]), ident


def _identifiers(ctx: MappingContext, pid: Segment) -> list[dict[str, Any]]:
    found = [*ctx.each(pid, 3, patient_identifier, ctx), *ctx.each(pid, 2, patient_identifier, ctx),
             *ctx.each(pid, 4, patient_identifier, ctx)]
    if pid[19]:
        found.append(composites.identifier(pid.field(19), ctx.tables, "SS"))
    if pid[20]:
        licence = pid.field(20)
        found.append(compact({"value": licence[1], "type": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "DL"}]},
            "assigner": {"display": licence[2]} if licence[2] else None}))
    unique: dict[str, dict[str, Any]] = {}
    for ident in found:
        if ident:
            unique.setdefault(json.dumps(ident, sort_keys=True), ident)
    return list(unique.values())


def _gender(ctx: MappingContext, pid: Segment) -> dict[str, Any]:
    written = pid[8]
    if not written:
        return {}
    gender = ctx.code("AdministrativeSex", written)
    if gender:
        return {"gender": gender}
    return {"_gender": {"extension": [{"url": _ORIGINAL_TEXT, "valueString": written}]}}


def _birth(ctx: MappingContext, pid: Segment) -> dict[str, Any]:
    born = ctx.date_time(pid, 7)
    if not born:
        return {}
    birth: dict[str, Any] = {"birthDate": born[:10]}
    if "T" in born:
        birth["_birthDate"] = {"extension": [{"url": _BIRTH_TIME, "valueDateTime": born}]}
    return birth


def _death(ctx: MappingContext, pid: Segment) -> dict[str, Any]:
    died = ctx.date_time(pid, 29)
    if died:
        return {"deceasedDateTime": died}
    indicator = _YES_NO.get(pid[30].upper())
    return {} if indicator is None else {"deceasedBoolean": indicator}


def _multiple_birth(ctx: MappingContext, pid: Segment) -> dict[str, Any]:
    """PID-24 multiple birth indicator; PID-25 birth order when part of a multiple birth."""
    indicator = _YES_NO.get(pid[24].upper())
    order = pid[25]
    if indicator is not False and order.isdigit() and int(order) > 0:
        return {"multipleBirthInteger": int(order)}
    return {} if indicator is None else {"multipleBirthBoolean": indicator}


def _extensions(ctx: MappingContext, pid: Segment) -> list[dict[str, Any]]:
    extensions = []
    maiden = pid.field(6).part(1)[1]
    if maiden:
        extensions.append({"url": _MAIDEN_NAME, "valueString": maiden})
    religion = ctx.concept(pid, 17)
    if religion:
        extensions.append({"url": _RELIGION, "valueCodeableConcept": religion})
    if pid[23]:
        extensions.append({"url": _BIRTH_PLACE, "valueAddress": {"text": pid[23]}})
    return extensions


def _contact(ctx: MappingContext, nk1: Segment) -> dict[str, Any] | None:
    """NK1 to Patient.contact (relationship NK1-3 and contact role NK1-7)."""
    relationship = [c for c in (
        ctx.mapped(nk1, 3, "Relationship", "0063"),
        ctx.mapped(nk1, 7, "ContactRole", "0131")) if c]
    names = ctx.each(nk1, 2, composites.human_name)
    telecom = [*ctx.each(nk1, 5, composites.contact_point, "home"),
               *ctx.each(nk1, 6, composites.contact_point, "work"),
               *ctx.each(nk1, 40, composites.contact_point)]
    addresses = ctx.each(nk1, 4, composites.address)
    org = organization(ctx, nk1.field(13), nk1.location())
    contact = compact({
        "relationship": relationship,
        "name": names[0] if names else None,
        "telecom": telecom,
        "address": addresses[0] if addresses else None,
        "gender": ctx.code("AdministrativeSex", nk1[15]),
        "organization": org,
        "period": compact({"start": ctx.date_time(nk1, 8), "end": ctx.date_time(nk1, 9)}),
    })
    return contact if set(contact) & {"name", "telecom", "address", "organization"} else None


def _general_practitioners(ctx: MappingContext, pd1: Segment | None) -> list[dict[str, str]]:
    if pd1 is None:
        return []
    found = [organization(ctx, v, pd1.location()) for v in pd1.repetitions(3)]
    found += [practitioner(ctx, v, pd1.location()) for v in pd1.repetitions(4)]
    return [f for f in found if f]


def _other_identifiers(stored: dict[str, Any], mapped: dict[str, Any]) -> dict[str, Any]:
    """``mapped`` with the stored identifiers of systems the message does not carry."""
    systems = {i.get("system") for i in mapped.get("identifier") or []}
    kept = [i for i in stored.get("identifier") or [] if isinstance(i, dict)
            and i.get("system") and i.get("system") not in systems]
    return {**mapped, "identifier": [*(mapped.get("identifier") or []), *kept]} if kept \
        else mapped


def keep_links(stored: dict[str, Any] | None, mapped: dict[str, Any]) -> dict[str, Any]:
    """New demographics, but the merge links (and inactive state) of the stored record and
    its identifiers of other systems."""
    if not stored:
        return mapped
    mapped = _other_identifiers(stored, mapped)
    if not stored.get("link"):
        return mapped
    links = list(stored["link"])
    links += [link for link in mapped.get("link", []) if link not in links]
    replaced = any(link.get("type") == "replaced-by" for link in links)
    return {**mapped, "link": links, "active": False if replaced else mapped.get("active")}


def map_patient(ctx: MappingContext, *, replace: bool, pid: Segment | None = None,
                link: dict[str, Any] | None = None) -> dict[str, str]:
    """Plan the Patient of a PID (the message's first by default); returns its reference,
    also kept as ``ctx.patient``. ``link`` is added to ``Patient.link`` (merges)."""
    pid = pid or ctx.message.first("PID")
    if pid is None:
        raise MappingError("The message has no PID segment", "PID", "100")
    primary = _primary(pid)
    if primary is None:
        raise MappingError("PID-3 (patient identifier list) is required but empty",
                           pid.location(3), "101")
    rid, _ = patient_identity(ctx, primary[1])
    body: dict[str, Any] = {
        "extension": _extensions(ctx, pid),
        "identifier": _identifiers(ctx, pid),
        "active": True,
        "name": [*ctx.each(pid, 5, composites.human_name),
                 *ctx.each(pid, 9, composites.human_name)],
        "telecom": [*ctx.each(pid, 13, composites.contact_point, "home"),
                    *ctx.each(pid, 14, composites.contact_point, "work"),
                    *ctx.each(pid, 40, composites.contact_point)],
        **_gender(ctx, pid),
        **_birth(ctx, pid),
        **_death(ctx, pid),
        "address": ctx.each(pid, 11, composites.address),
        "maritalStatus": ctx.mapped(pid, 16, "MaritalStatus", "0002"),
        **_multiple_birth(ctx, pid),
        "contact": [c for c in (_contact(ctx, s) for s in ctx.message.all("NK1")) if c],
        "communication": [{"language": c} for c in ctx.concepts(pid, 15)],
        "generalPractitioner": _general_practitioners(ctx, ctx.message.first("PD1")),
        "link": [link] if link else [],
    }
    mode = "amend" if replace else "if-absent"
    ctx.patient = ctx.add("Patient", rid, body, mode=mode, source=pid.location(),
                          amend=keep_links if replace else None)
    return ctx.patient
