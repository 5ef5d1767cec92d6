"""People, organizations and places named inside segments (XCN, XON, PL, HD).

Each becomes its own resource, written only when absent (a name in an order does not
overwrite the registry's Practitioner), with an id from its identifier, else its name.
"""

from __future__ import annotations

from typing import Any

from ..composites import compact, identifier
from ..message import Value
from .context import MappingContext, resource_id

__all__ = ["practitioner", "organization", "location", "facility"]


def _xcn_name(value: Value) -> dict[str, Any] | None:
    family = value.part(2)[1]
    name = compact({
        "family": family or None,
        "given": [g for g in (value[3], value[4]) if g],
        "prefix": [value[6]] if value[6] else [],
        "suffix": [s for s in (value[5], value[7]) if s],
    })
    return name or None


def _display(name: dict[str, Any] | None, fallback: str) -> str:
    if not name:
        return fallback
    parts = [*name.get("prefix", []), *name.get("given", []), name.get("family", "")]
    return " ".join(p for p in parts if p) or fallback


def practitioner(ctx: MappingContext, value: Value, source: str = "") -> dict[str, str] | None:
    """XCN (id, family, given, middle, suffix, prefix, degree, ..., authority XCN.9,
    ..., type XCN.13) to a Practitioner reference (with display)."""
    if not value:
        return None
    name = _xcn_name(value)
    ident = identifier(value, ctx.tables, value[13], authority=value.part(9)) if value[1] \
        else None
    if ident is None and name is None:
        return None
    key = (ident.get("system") or value.part(9).raw, ident["value"]) if ident else \
        ("name", value.raw)
    rid = resource_id("Practitioner", *key)
    body = {"identifier": [ident] if ident else [], "name": [name] if name else []}
    reference = ctx.add("Practitioner", rid, body, mode="if-absent", source=source)
    return {**reference, "display": _display(name, ident["value"] if ident else "")}


def organization(ctx: MappingContext, value: Value, source: str = "") -> dict[str, str] | None:
    """XON (name, type, id XON.3, ..., authority XON.6, id type XON.7, ..., XON.10 id)."""
    if not value:
        return None
    name = value[1]
    number = value[10] or value[3]
    ident = None
    if number:
        ident = identifier(Value(number, value.encoding, 0), ctx.tables, value[7],
                           authority=value.part(6))
    if not name and ident is None:
        return None
    key = (ident.get("system") or value.part(6).raw, ident["value"]) if ident else ("name", name)
    rid = resource_id("Organization", *key)
    body = {"identifier": [ident] if ident else [], "name": name or None, "active": True}
    reference = ctx.add("Organization", rid, body, mode="if-absent", source=source)
    return {**reference, "display": name or ident["value"]}  # type: ignore[index]


def facility(ctx: MappingContext, value: Value, source: str = "") -> dict[str, str] | None:
    """HD (namespace, universal id, type), e.g. a sending facility, to an Organization."""
    if not value:
        return None
    name, universal = value[1], value[2]
    ident = None
    if universal:
        system = ctx.tables.identifier_system("", universal, value[3]) or None
        ident = compact({"system": system, "value": universal})
    rid = resource_id("Organization", "HD", universal or name)
    body = {"identifier": [ident] if ident else [], "name": name or universal, "active": True}
    reference = ctx.add("Organization", rid, body, mode="if-absent", source=source)
    return {**reference, "display": name or universal}


_PHYSICAL = (("3", "bd", "Bed"), ("2", "ro", "Room"), ("1", "wa", "Ward"))


def location(ctx: MappingContext, value: Value, source: str = "") -> dict[str, str] | None:
    """PL (point of care, room, bed, facility HD, status, type, building, floor, text)."""
    if not value:
        return None
    levels = [value.part(4)[1], value[7], value[8], value[1], value[2], value[3]]
    name = " / ".join(p for p in levels if p) or value[9]
    if not name:
        return None
    physical = next(((code, display) for index, code, display in _PHYSICAL
                     if value[int(index)]), None)
    body: dict[str, Any] = {"name": name, "status": "active", "mode": "instance",
                            "description": value[9] or None}
    if physical:
        body["physicalType"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
            "code": physical[0], "display": physical[1]}]}
    rid = resource_id("Location", name)
    reference = ctx.add("Location", rid, body, mode="if-absent", source=source)
    return {**reference, "display": name}
