"""Fuzzed resource bodies through create and update: valid-ish resources of several types
and their mutations (wrong JSON kinds, huge numbers, lone surrogates, deep nesting, unknown
elements, contained resources). Never a 5xx; an error is an OperationOutcome; a refused
write stores nothing; an accepted one reads back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from .budget import fuzz_settings
from .checks import assert_fhir_answer, is_error, stored
from .strategies import body_bytes, json_values, mutated_resources, resources

FHIR_JSON = {"Content-Type": "application/fhir+json"}


async def _write(client, db, resource, method: str):
    resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
    target = resource_type if isinstance(resource_type, str) and resource_type.isalpha() \
        else "Patient"
    before = await stored(db, target)
    if method == "PUT":
        if isinstance(resource, dict):
            resource = {**resource, "id": "fuzz-1"}
        response = await client.put(f"{target}/fuzz-1", content=body_bytes(resource),
                                    headers=FHIR_JSON)
    else:
        response = await client.post(target, content=body_bytes(resource), headers=FHIR_JSON)
    body = assert_fhir_answer(response)
    if is_error(response):
        assert await stored(db, target) == before, response.text[:500]
    else:
        assert body["resourceType"] == target
        read = await client.get(f"{target}/{body['id']}")
        assert read.status_code == 200, read.text[:500]


@fuzz_settings(150)
@given(resource=mutated_resources(), method=st.sampled_from(["POST", "PUT"]))
async def test_mutated_resources(client, db, resource, method):
    await _write(client, db, resource, method)


@fuzz_settings(40)
@given(resource=st.one_of(resources, json_values), method=st.sampled_from(["POST", "PUT"]))
async def test_resources_and_arbitrary_json(client, db, resource, method):
    await _write(client, db, resource, method)
