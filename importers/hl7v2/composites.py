"""HL7 v2 composite datatypes to FHIR datatypes (V2-to-FHIR IG datatype maps).

CWE/CE/CNE -> CodeableConcept, CX/EI -> Identifier, HD -> system URI, XPN -> HumanName,
XAD -> Address, XTN -> ContactPoint, CQ/units -> Quantity. Each takes a :class:`Value` (a
field repetition or a component) and the configuration :class:`Tables`. Codes no table
knows keep their code and display, and the CodeableConcept keeps the text.
"""

from __future__ import annotations

from typing import Any

from .datatypes import date
from .message import Value
from .tables import Tables

__all__ = ["codeable_concept", "coding", "identifier", "assigning_system", "human_name",
           "address", "contact_point", "quantity_unit", "mapped_code", "compact"]


def compact(element: dict[str, Any]) -> dict[str, Any]:
    """The element without empty members (FHIR forbids empty strings, arrays and objects)."""
    return {k: v for k, v in element.items() if v not in (None, "", [], {})}


def coding(code: str, display: str, system_name: str, tables: Tables,
           version: str = "") -> dict[str, Any] | None:
    if not code:
        return None
    return compact({"system": tables.coding_system(system_name), "version": version or None,
                    "code": code, "display": display or None})


def codeable_concept(value: Value, tables: Tables) -> dict[str, Any] | None:
    """CWE: identifier/text/system triplets 1-3 and 4-6, original text CWE.9."""
    if not value:
        return None
    if not value.has_parts:
        return {"coding": [{"code": value.text}], "text": value.text}
    codings = [coding(value[1], value[2], value[3], tables, value[7]),
               coding(value[4], value[5], value[6], tables, value[8])]
    codings = [c for c in codings if c]
    text = value[9] or value[2] or value[5] or (value[1] if not codings else "")
    concept = compact({"coding": codings, "text": text or None})
    return concept or None


def mapped_code(value: Value, map_name: str, tables: Tables,
                v2_system: str = "") -> dict[str, Any] | None:
    """A CodeableConcept of v2 table code ``value`` plus the FHIR code the IG maps it to."""
    concept = codeable_concept(value, tables)
    if concept is None:
        return None
    code = value[1]
    if v2_system and concept.get("coding") and "system" not in concept["coding"][0]:
        concept["coding"][0]["system"] = v2_system
    target = tables.concept(map_name, code) if code else None
    if target and target.system != v2_system:
        concept.setdefault("coding", []).insert(0, target.coding())
    return concept


def assigning_system(value: Value, tables: Tables, identifier_type: str = "") -> str | None:
    """HD (namespace, universal id, universal id type) to an ``Identifier.system``."""
    return tables.identifier_system(value[1], value[2], value[3], identifier_type)


def _authority_display(value: Value) -> str | None:
    return value[1] or value[2] or None


def identifier(value: Value, tables: Tables, type_code: str = "",
               authority: Value | None = None) -> dict[str, Any] | None:
    """CX (value, ..., assigning authority CX.4, type CX.5, dates CX.7/8) to Identifier."""
    if not value[1]:
        return None
    authority = authority if authority is not None else value.part(4)
    id_type = value[5] or type_code
    system = assigning_system(authority, tables, id_type)
    result: dict[str, Any] = {"value": value[1]}
    if id_type:
        result["type"] = {"coding": [compact({
            "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": id_type,
            "display": (tables.concept("IdentifierType", id_type) or _none).display})]}
    if system:
        result["system"] = system
    elif authority:
        result["assigner"] = {"display": _authority_display(authority)}
    period = compact({"start": _safe_date(value[7]), "end": _safe_date(value[8])})
    if period:
        result["period"] = period
    return result


class _NoConcept:
    display = None


_none = _NoConcept()


def _safe_date(text: str) -> str | None:
    try:
        return date(text)
    except ValueError:
        return None


def entity_identifier(value: Value, tables: Tables, type_code: str = "") -> dict[str, Any] | None:
    """EI (entity id, namespace, universal id, type) to Identifier (placer/filler numbers)."""
    if not value[1]:
        return None
    system = tables.identifier_system(value[2], value[3], value[4])
    result: dict[str, Any] = {"value": value[1]}
    if type_code:
        result["type"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                      "code": type_code}]}
    if system:
        result["system"] = system
    elif value[2] or value[3]:
        result["assigner"] = {"display": value[2] or value[3]}
    return result


def human_name(value: Value, tables: Tables) -> dict[str, Any] | None:
    """XPN: family (FN.1), given, middle, suffix, prefix, degree, type XPN.7, dates."""
    family = value.part(1)[1]
    given = [g for g in (value[2], value[3]) if g]
    name_type = value[7]
    use = tables.concept("NameType", name_type) if name_type else None
    period = compact({"start": _safe_date(value[12] or value.part(10)[1]),
                      "end": _safe_date(value[13] or value.part(10)[2])})
    name = compact({
        "use": use.code if use else None,
        "family": family or None,
        "given": given,
        "prefix": [value[5]] if value[5] else [],
        "suffix": [s for s in (value[4], value[6]) if s],
        "period": period,
    })
    if "family" not in name and "given" not in name:
        return None
    return name


def address(value: Value, tables: Tables) -> dict[str, Any] | None:
    """XAD: street (SAD.1), other designation, city, state, zip, country, type, county."""
    street = value.part(1)
    first_line = " ".join(p.text for p in street.parts() if p.text) if street.has_parts \
        else street.text
    lines = [first_line, value[2], value[8]]
    address_type = value[7]
    use = tables.concept("AddressType_Use", address_type) if address_type else None
    result = compact({
        "use": use.code if use else None,
        "type": "postal" if address_type == "M" else None,
        "line": [line for line in lines if line],
        "city": value[3] or None,
        "district": value[9] or None,
        "state": value[4] or None,
        "postalCode": value[5] or None,
        "country": value[6] or None,
        "period": compact({"start": _safe_date(value[13] or value.part(12)[1]),
                           "end": _safe_date(value[14] or value.part(12)[2])}),
    })
    return result if set(result) - {"use", "type", "period"} else None


def _phone_number(value: Value) -> str:
    """XTN.12 unformatted number, else XTN.5-8 composed, else the legacy XTN.1."""
    country, area, local, extension = value[5], value[6], value[7], value[8]
    if value[12] or not local:
        return value[12] or value[1]
    number = " ".join(p for p in (f"+{country}" if country else "",
                                  f"({area})" if area else "", local) if p)
    return f"{number} ext. {extension}" if extension else number


def contact_point(value: Value, tables: Tables, default_use: str = "") -> dict[str, Any] | None:
    """XTN: use XTN.2 (table 0201), equipment XTN.3 (table 0202), email XTN.4, number."""
    equipment = value[3]
    email = value[4] if equipment in ("Internet", "X.400", "NET") or (
        not equipment and "@" in value[4]) else ""
    system_concept = tables.concept("TelecommunicationEquipmentType", equipment)
    use_concept = tables.concept("TelecommunicationUseCode", value[2])
    system = "email" if email else None
    use = use_concept.code if use_concept else (default_use or None)
    if system_concept is not None:
        if system_concept.system.endswith("contact-point-use"):
            system, use = system or "phone", system_concept.code
        else:
            system = system or system_concept.code
    number = email or _phone_number(value)
    if not number:
        return None
    rank = value[18]
    return compact({"system": system or "phone", "value": number, "use": use,
                    "rank": int(rank) if rank.isdigit() and int(rank) > 0 else None,
                    "period": compact({"start": _safe_date(value[13]),
                                       "end": _safe_date(value[14])})})


def quantity_unit(unit: Value, tables: Tables) -> dict[str, Any]:
    """Units (CWE, OBX-6 / CQ.2) as the unit, system and code of a Quantity (UCUM if known)."""
    code, display, system_name = unit[1], unit[2], unit[3]
    if not code and not display:
        return {}
    if system_name.upper() in ("UCUM", "ISO+", "ANSI+") or not system_name:
        ucum = tables.ucum(code) or tables.ucum(display)
        if ucum is not None:
            return {"unit": display or code, "system": ucum.system, "code": ucum.code}
    result = {"unit": display or code}
    system = tables.coding_system(system_name)
    if system and code:
        result.update({"system": system, "code": code})
    return result
