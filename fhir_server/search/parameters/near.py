"""Location ``near``: ``[latitude]|[longitude]|[distance]|[units]`` on ``Location.position``.

R4 location.html#positional and SearchParameter ``Location-near`` (type *special*): WGS84
coordinates; units default to ``km``; without a distance "the server can use its own
discretion" — here :data:`DEFAULT_DISTANCE_KM`. The distance is any UCUM length unit
(``km``, ``m``, ``[mi_i]``, ...; ``mi`` is accepted for ``[mi_i]``).

A position is indexed twice: ``search.near`` (the generic entry list, for ``:missing``)
and ``search._geo.near``, one GeoJSON Point under a ``2dsphere`` index (a field no
custom parameter can claim: codes never start with ``_``). A search is
``$geoWithin``/``$centerSphere`` with the distance in radians of a sphere of
:data:`EARTH_RADIUS_KM` (the great-circle, i.e. haversine, distance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ...errors import InvalidRequest
from ..filters import RANK_RANGE, Condition, Field
from ..paths import Node
from ..ucum import canonical
from . import IndexContext

__all__ = ["NearParameter", "NearValue", "NEAR_URL", "GEO_FIELD", "EARTH_RADIUS_KM",
           "DEFAULT_DISTANCE_KM"]

NEAR_URL = "http://hl7.org/fhir/SearchParameter/Location-near"
GEO_FIELD = "_geo"
EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
DEFAULT_DISTANCE_KM = 50.0
_UNIT_ALIASES = {"mi": "[mi_i]"}
_METERS = "meter"


@dataclass(frozen=True)
class NearValue:
    latitude: float
    longitude: float
    distance_km: float


def _coordinate(text: str, name: str, limit: float) -> float:
    try:
        value = float(Decimal(text.strip()))
    except (InvalidOperation, ValueError):
        raise InvalidRequest(f"near: {name} '{text[:40]}' is not a number") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise InvalidRequest(f"near: {name} must be between -{limit:g} and {limit:g}")
    return value


def _distance_km(text: str, unit: str) -> float:
    try:
        distance = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidRequest(f"near: distance '{text[:40]}' is not a number") from None
    if not distance.is_finite() or distance < 0:
        raise InvalidRequest("near: distance must be a non-negative number")
    converted = canonical(_UNIT_ALIASES.get(unit, unit), distance)
    if converted is None or converted[0] != _METERS:
        raise InvalidRequest(f"near: unit '{unit[:40]}' is not a UCUM unit of length "
                             "(km, m, [mi_i])")
    return float(converted[1]) / 1000


def parse_near(text: str) -> NearValue:
    parts = text.split("|")
    if len(parts) < 2 or len(parts) > 4:
        raise InvalidRequest("near takes [latitude]|[longitude]|[distance]|[units]")
    latitude = _coordinate(parts[0], "latitude", 90)
    longitude = _coordinate(parts[1], "longitude", 180)
    distance = parts[2] if len(parts) > 2 else ""
    unit = parts[3] if len(parts) > 3 and parts[3] else "km"
    if distance == "":
        return NearValue(latitude, longitude, DEFAULT_DISTANCE_KM)
    return NearValue(latitude, longitude, _distance_km(distance, unit))


def point(position: Any) -> dict[str, Any] | None:
    """The GeoJSON Point of a Location.position, or None when it has no valid WGS84
    coordinates (an invalid one must not reach the 2dsphere index: it would fail the write)."""
    if not isinstance(position, dict):
        return None
    latitude, longitude = position.get("latitude"), position.get("longitude")
    try:
        lat, lon = float(latitude), float(longitude)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if isinstance(latitude, bool) or isinstance(longitude, bool):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def geo_path(path: str) -> str:
    """``search.near`` -> ``search._geo.near``."""
    prefix, _, code = path.rpartition(".")
    return f"{prefix}.{GEO_FIELD}.{code}"


class NearParameter:
    name = "special"
    modifiers: frozenset[str] = frozenset()

    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]:
        return [p for p in (point(n.value) for n in nodes[:1]) if p is not None]

    def parse(
        self, text: str, modifier: str | None, parameter: Any, context: IndexContext
    ) -> NearValue:
        return parse_near(text)

    def condition(self, value: NearValue, modifier: str | None, path: str) -> Condition:
        radians = value.distance_km / EARTH_RADIUS_KM
        return Field(geo_path(path), {"$geoWithin": {"$centerSphere": [
            [value.longitude, value.latitude], radians]}}, rank=RANK_RANGE)

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None:
        return None

    @staticmethod
    def geo_value(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
        """What ``search._geo.<code>`` holds: the one Point."""
        return entries[0] if entries else None
