"""``Location?near=latitude|longitude|distance|units`` (R4 location.html#positional)
against great-circle distances computed here by the haversine formula, with places just
inside and just outside the radius; bad values are 400 OperationOutcomes; practitioners
by distance through the chain ``PractitionerRole?location.near=...``."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from fhir_server.config import Settings
from fhir_server.rest.app import create_app
from fhir_server.search.parameters.near import DEFAULT_DISTANCE_KM, EARTH_RADIUS_KM
from fhir_server.storage.search_indexes import ensure_search_indexes
from tests.conftest import BASE, database_of

CENTRE = (28.6139, 77.2090)  # New Delhi
PLACES = {
    "north-in": (28.7029, 77.2090),    # 0.0890 deg north: 9.897 km
    "north-out": (28.7049, 77.2090),   # 0.0910 deg north: 10.119 km
    "east-in": (28.6139, 77.3090),     # 0.1 deg east: 9.76 km
    "east-out": (28.6139, 77.3150),    # 0.106 deg east: 10.35 km
    "gurugram": (28.4595, 77.0266),    # about 25 km
    "agra": (27.1767, 78.0081),        # about 178 km
}


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def within(km: float) -> set[str]:
    return {name for name, place in PLACES.items() if haversine_km(CENTRE, place) <= km}


def location(name: str, position: dict | None) -> dict:
    resource = {"resourceType": "Location", "id": name, "name": name, "status": "active"}
    if position is not None:
        resource["position"] = position
    return resource


async def _store_places(client) -> None:
    for name, (latitude, longitude) in PLACES.items():
        answer = await client.put(f"Location/{name}", json=location(
            name, {"latitude": latitude, "longitude": longitude}))
        assert answer.status_code == 201, answer.text
    # no position, and a position no map has: both stored, neither ever near anything
    for name, position in (("nowhere", None), ("off-the-map", {"latitude": 95, "longitude": 0})):
        answer = await client.put(f"Location/{name}", json=location(name, position))
        assert answer.status_code == 201, answer.text


@pytest.fixture(scope="module")
async def places(mongodb_uri: str, mongo_client: AsyncMongoClient
                 ) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """One app and database for the module: the places are written once, then read."""
    settings = Settings(database=f"test_near_{uuid.uuid4().hex[:10]}",
                        mongodb_uri=mongodb_uri, base_url=BASE)
    app = create_app(settings, mongo_client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as client:
            await _store_places(client)
            yield client, database_of(app)
    await mongo_client.drop_database(settings.database)


async def _found(client, path: str, **params: str) -> set[str]:
    answer = await client.get(path, params={**params, "_count": "100"})
    assert answer.status_code == 200, answer.text
    bundle = answer.json()
    ids = {e["resource"]["id"] for e in bundle.get("entry", [])}
    assert bundle["total"] == len(ids)
    return ids


def test_the_hand_computed_distances_straddle_the_radius():
    distances = {name: haversine_km(CENTRE, place) for name, place in PLACES.items()}
    assert 9.8 < distances["north-in"] < 10 < distances["north-out"] < 10.2
    assert 9.7 < distances["east-in"] < 10 < distances["east-out"] < 10.4
    assert 20 < distances["gurugram"] < DEFAULT_DISTANCE_KM < distances["agra"]


async def test_near_finds_exactly_the_places_within_the_distance(places):
    client, db = places
    lat, lon = CENTRE
    assert within(10) == {"north-in", "east-in"}
    assert await _found(client, "Location", near=f"{lat}|{lon}|10|km") == within(10)
    assert await _found(client, "Location", near=f"{lat}|{lon}|10") == within(10)  # km
    assert within(9.8) == {"east-in"}
    assert await _found(client, "Location", near=f"{lat}|{lon}|9800|m") == within(9.8)
    # 6.1 international miles are 9.817 km
    assert await _found(client, "Location", near=f"{lat}|{lon}|6.1|[mi_i]") == within(9.817)
    assert await _found(client, "Location", near=f"{lat}|{lon}|6.1|mi") == within(9.817)
    assert within(9.817) == within(9.8)
    assert await _found(client, "Location", near=f"{lat}|{lon}|200|km") == within(200)
    assert within(200) == set(PLACES)
    # no distance: the server's default (docs/scheduling.md)
    assert await _found(client, "Location", near=f"{lat}|{lon}") == within(DEFAULT_DISTANCE_KM)
    assert "agra" not in within(DEFAULT_DISTANCE_KM) and "gurugram" in within(
        DEFAULT_DISTANCE_KM)
    # OR of two circles, AND with another parameter, :missing
    agra = "{}|{}|1|km".format(*PLACES["agra"])
    assert await _found(client, "Location", near=f"{lat}|{lon}|10,{agra}") == {
        "north-in", "east-in", "agra"}
    assert await _found(client, "Location", near=f"{lat}|{lon}|10", name="east") == {"east-in"}
    assert await _found(client, "Location", **{"near:missing": "true"}) == {
        "nowhere", "off-the-map"}
    await ensure_search_indexes(db)  # the next process to start asks for it again
    plan = await db.command("explain", {"find": "Location", "filter": {
        "search._geo.near": {"$geoWithin": {"$centerSphere": [[lon, lat], 0.001]}}}},
        verbosity="queryPlanner")
    assert "near.geo" in str(plan["queryPlanner"]["winningPlan"])


async def test_practitioners_by_distance_through_their_locations(places):
    client, _ = places
    for name in ("north-in", "north-out", "agra"):
        answer = await client.put(f"PractitionerRole/at-{name}", json={
            "resourceType": "PractitionerRole", "id": f"at-{name}",
            "practitioner": {"reference": f"Practitioner/dr-{name}"},
            "location": [{"reference": f"Location/{name}"}]})
        assert answer.status_code == 201, answer.text
    lat, lon = CENTRE
    found = await _found(client, "PractitionerRole", **{"location.near": f"{lat}|{lon}|10|km"})
    assert found == {"at-north-in"}


BAD = ["abc", "28.6", "91|77", "28.6|181", "28.6|77|ten", "28.6|77|5|kg", "28.6|77|-1|km",
       "28.6|77|5|km|x", "28.6|77|5|furlong", "nan|77|5", "28.6|inf", "|77|5"]


async def test_a_bad_near_value_is_400(places):
    client, _ = places
    for value in BAD:
        answer = await client.get("Location", params={"near": value})
        assert answer.status_code == 400, (value, answer.text)
        outcome = answer.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert "near" in outcome["issue"][0]["diagnostics"], value
    chained = await client.get("PractitionerRole", params={"location.near": "91|0|1"})
    assert chained.status_code == 400
