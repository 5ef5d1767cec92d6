"""Fuzzed request headers (If-Match, If-None-Match, If-None-Exist, If-Modified-Since,
Prefer, Accept, Content-Type) on create, conditional create, update, patch, read and
search. Never a 5xx; an error is an OperationOutcome; a refused write stores nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .budget import fuzz_settings
from .checks import assert_fhir_answer, is_error, stored
from .strategies import body_bytes, header_sets

PATIENT = {"resourceType": "Patient", "identifier": [{"system": "urn:oid:1.2.3",
                                                       "value": "h1"}], "gender": "female"}
PATCH = b'[{"op": "replace", "path": "/gender", "value": "other"}]'
WRITES = {"create", "update", "patch"}


@pytest.fixture(scope="module")
async def headed(client):
    response = await client.put("Patient/h1", json={**PATIENT, "id": "h1"},
                                headers={"Content-Type": "application/fhir+json"})
    assert response.status_code in (200, 201), response.text


async def _send(client, interaction: str, headers: dict[str, bytes]):
    if interaction == "create":
        return await client.post("Patient", content=body_bytes(PATIENT), headers=headers)
    if interaction == "update":
        return await client.put("Patient/h1", content=body_bytes({**PATIENT, "id": "h1"}),
                                headers=headers)
    if interaction == "patch":
        return await client.patch("Patient/h1", content=PATCH, headers=headers)
    if interaction == "read":
        return await client.get("Patient/h1", headers=headers)
    return await client.get("Patient?identifier=urn:oid:1.2.3|h1", headers=headers)


@fuzz_settings(150)
@given(headers=header_sets,
       interaction=st.sampled_from(["create", "update", "patch", "read", "search"]))
async def test_headers(client, db, headed, headers, interaction):
    before = await stored(db, "Patient")
    raw = {name: value.encode("utf-8") for name, value in headers.items()}  # bytes as sent
    response = await _send(client, interaction, raw)
    assert_fhir_answer(response)
    if interaction in WRITES and is_error(response):
        assert await stored(db, "Patient") == before, response.text[:500]
