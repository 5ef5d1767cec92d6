"""Fuzzed Bundles posted to the base: transactions and batches with odd entries (methods,
URLs, fullUrls, references between entries, mutated resources), and other Bundle types.
Never a 5xx; an error is an OperationOutcome; a refused transaction stores nothing; a batch
answers each entry, a failed entry with an OperationOutcome."""

from __future__ import annotations

from hypothesis import given

from .budget import fuzz_settings
from .checks import assert_fhir_answer, is_error, stored
from .strategies import body_bytes, bundles

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def _status(entry: dict) -> int:
    return int(entry["response"]["status"].split(" ", 1)[0])


@fuzz_settings(150)
@given(bundle=bundles)
async def test_transactions_and_batches(client, db, bundle):
    before = await stored(db)
    response = await client.post("", content=body_bytes(bundle), headers=FHIR_JSON)
    body = assert_fhir_answer(response)
    if is_error(response):
        assert await stored(db) == before, response.text[:500]
        return
    assert body["resourceType"] == "Bundle", body
    assert body["type"] == f"{bundle['type']}-response", body["type"]
    assert len(body.get("entry", [])) == len(bundle["entry"])
    for entry in body.get("entry", []):
        assert _status(entry) < 500, entry
        if _status(entry) >= 400:
            assert entry["response"]["outcome"]["resourceType"] == "OperationOutcome", entry
