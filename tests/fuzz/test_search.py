"""Fuzzed search strings (parameter names, modifiers, prefixes, values, escapes, broken
percent-encodings) by GET and by POST ``_search``: never a 5xx, an error is an
OperationOutcome, a result is a searchset Bundle."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .budget import fuzz_settings
from .checks import assert_fhir_answer, is_error
from .strategies import search_queries

FHIR_JSON = {"Content-Type": "application/fhir+json"}


@pytest.fixture(scope="module")
async def searchable(client):
    """Something to find: a Patient and an Observation about her."""
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Okafor",
                                                                "given": ["Ada"]}],
               "birthDate": "1990-02-03", "gender": "female",
               "identifier": [{"system": "urn:oid:1.2.3", "value": "1"}]}
    observation = {"resourceType": "Observation", "id": "o1", "status": "final",
                   "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                   "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-05-14",
                   "valueQuantity": {"value": 7.9, "system": "http://unitsofmeasure.org",
                                     "code": "kg", "unit": "kg"}}
    for resource in (patient, observation):
        response = await client.put(f"{resource['resourceType']}/{resource['id']}",
                                    json=resource, headers=FHIR_JSON)
        assert response.status_code in (200, 201), response.text


@fuzz_settings(200)
@given(query=search_queries, by_post=st.booleans())
async def test_search_strings(client, searchable, query, by_post):
    resource_type, text = query
    if by_post:
        response = await client.post(f"{resource_type}/_search", content=text.encode(),
                                     headers={"Content-Type":
                                              "application/x-www-form-urlencoded"})
    else:
        response = await client.get(f"{resource_type}?{text}")
    body = assert_fhir_answer(response)
    if not is_error(response) and body is not None and "_format" not in text:
        assert body["resourceType"] == "Bundle" and body["type"] == "searchset", body
