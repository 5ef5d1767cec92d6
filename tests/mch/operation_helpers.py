"""Helpers for the tests of the MCH operations through the server: an in-process server on
a database of its own that the tests of one module share (they load distinct patients, or
only read what the module's fixture loaded), and the test data they load."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from fhir_server import validation
from fhir_server.config import Settings
from fhir_server.rest.app import create_app

from ..conftest import BASE

__all__ = ["FHIR", "LOINC", "UCUM", "LUIGI", "LAURIE", "serving", "load", "pediatric", "weight",
           "observation", "child_bundle"]

FHIR = {"Content-Type": "application/fhir+json"}
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
LUIGI = "1ae0605d-e5b8-4d6d-a96d-c93dcbd57e06"  # Synthea pediatric, born 2020-10-20
LAURIE = "ca95b2c5-d306-44d4-a7fa-756de736e68e"  # Synthea prenatal
PEDIATRIC = Path(__file__).parents[1] / "data" / "synthea" / "bundles" / "pediatric"


@contextlib.asynccontextmanager
async def serving(mongodb_uri: str, mongo_client: AsyncMongoClient, *,
                  store_operation_definitions: bool = False
                  ) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an in-process server on a new database, dropped afterwards.

    ``store_operation_definitions``: the server stores its own OperationDefinitions at
    startup as a deployment does (``FHIR_TERMINOLOGY_SEED=on``: the shipped content and
    ``fhir_server.operations.definitions()``), without the 2,400 shipped terminology and
    profile resources, whose storing and dropping would take minutes here (the test
    session turns seeding off; tests/terminology/test_startup.py stores all of it)."""
    settings = Settings(database=f"test_{uuid.uuid4().hex[:12]}", mongodb_uri=mongodb_uri,
                        base_url=BASE)
    app = create_app(settings, mongo_client)
    try:
        async with contextlib.AsyncExitStack() as stack:
            with pytest.MonkeyPatch.context() as patch:
                if store_operation_definitions:
                    patch.setenv("FHIR_TERMINOLOGY_SEED", "on")
                    patch.setattr(validation, "shipped_content", lambda: [])
                await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            yield await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url=BASE + "/"))
    finally:
        await mongo_client.drop_database(settings.database)


async def load(client: httpx.AsyncClient, resources: list[dict[str, Any]]) -> None:
    """PUT ``resources`` in one transaction."""
    entries = [{"resource": r, "request": {"method": "PUT",
                                           "url": f"{r['resourceType']}/{r['id']}"}}
               for r in resources]
    response = await client.post("", json={"resourceType": "Bundle", "type": "transaction",
                                           "entry": entries}, headers=FHIR)
    assert response.status_code == 200, response.text[:2000]


def pediatric(name: str, types: tuple[str, ...]) -> list[dict[str, Any]]:
    """The resources of ``types`` of a Synthea pediatric bundle (``Luigi_Wiegand``), with
    its ``urn:uuid:`` references rewritten to ``Type/id`` as the server stores them."""
    [path] = PEDIATRIC.glob(f"{name}_*.json")
    text = path.read_text()
    for entry in json.loads(text)["entry"]:
        resource = entry["resource"]
        text = text.replace(f'"{entry["fullUrl"]}"',
                            f'"{resource["resourceType"]}/{resource["id"]}"')
    return [e["resource"] for e in json.loads(text)["entry"]
            if e["resource"]["resourceType"] in types]


def weight(rid: str, patient: str, day: str, value: float, unit: str = "kg",
           **elements: Any) -> dict[str, Any]:
    """A body weight Observation (LOINC 29463-7) of ``patient``."""
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
            "subject": {"reference": f"Patient/{patient}"}, "effectiveDateTime": day,
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
            **elements}


def observation(rid: str, patient: str, code: str, **elements: Any) -> dict[str, Any]:
    """An Observation of ``patient`` coded by LOINC ``code``."""
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "subject": {"reference": f"Patient/{patient}"}, **elements}


def child_bundle() -> dict[str, Any]:
    """An app's offline copy of a child's records: the Patient and Observations, named by
    ``urn:uuid:`` fullUrls except one that has only its id."""
    child = "urn:uuid:9b2f7a0c-1d3e-4f56-8a9b-0c1d2e3f4a5b"
    length = observation("b-length", "unused", "8306-3", effectiveDateTime="2024-07-01",
                         valueQuantity={"value": 66.0, "unit": "cm", "system": UCUM,
                                        "code": "cm"})
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": child, "resource": {"resourceType": "Patient", "gender": "female",
                                        "birthDate": "2024-01-01"}},
        {"fullUrl": "urn:uuid:0a1b2c3d-0000-4000-8000-000000000001", "resource": {
            **weight("b-weight", "unused", "2024-07-01", 7.2), "subject": {"reference": child}}},
        {"resource": {**length, "subject": {"reference": child}}},
        {"fullUrl": "urn:uuid:0a1b2c3d-0000-4000-8000-000000000002", "resource": {
            **weight("b-wrong", "unused", "2024-07-02", 9.9, status="entered-in-error"),
            "subject": {"reference": child}}},
        {"fullUrl": "urn:uuid:0a1b2c3d-0000-4000-8000-000000000003", "resource": {
            **weight("b-sibling", "sibling", "2024-07-03", 7.0)}}]}
