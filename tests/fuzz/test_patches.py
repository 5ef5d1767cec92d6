"""Fuzzed patches of a stored Patient: JSON Patch (``application/json-patch+json``) and
FHIRPath Patch (a ``Parameters`` body). Never a 5xx; an error is an OperationOutcome; a
refused patch leaves the Patient at its version."""

from __future__ import annotations

import pytest
from hypothesis import given

from .budget import fuzz_settings
from .checks import assert_fhir_answer, is_error, stored
from .strategies import body_bytes, fhirpath_patches, json_patches

PATIENT = {"resourceType": "Patient", "id": "patched", "active": False, "gender": "female",
           "birthDate": "1990-02-03", "name": [{"family": "Okafor", "given": ["Ada", "N"]}],
           "telecom": [{"system": "phone", "value": "+2348000000"}]}


@pytest.fixture(scope="module")
async def patched(client):
    response = await client.put("Patient/patched", json=PATIENT,
                                headers={"Content-Type": "application/fhir+json"})
    assert response.status_code in (200, 201), response.text


async def _patch(client, db, body: bytes, content_type: str) -> None:
    before = await stored(db, "Patient")
    version = (await client.get("Patient/patched")).json()["meta"]["versionId"]
    response = await client.patch("Patient/patched", content=body,
                                  headers={"Content-Type": content_type})
    answer = assert_fhir_answer(response)
    current = (await client.get("Patient/patched")).json()
    if is_error(response):
        assert await stored(db, "Patient") == before, response.text[:500]
        assert current["meta"]["versionId"] == version
    else:
        assert answer is None or answer["resourceType"] in ("Patient", "OperationOutcome")
        assert current["resourceType"] == "Patient" and current["id"] == "patched"


@fuzz_settings(120)
@given(patch=json_patches)
async def test_json_patches(client, db, patched, patch):
    await _patch(client, db, body_bytes(patch), "application/json-patch+json")


@fuzz_settings(120)
@given(patch=fhirpath_patches)
async def test_fhirpath_patches(client, db, patched, patch):
    await _patch(client, db, body_bytes(patch), "application/fhir+json")
