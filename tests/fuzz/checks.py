"""What every fuzzed answer must satisfy, and a fingerprint of what is stored."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["assert_fhir_answer", "stored", "is_error"]

def is_error(response: httpx.Response) -> bool:
    return response.status_code >= 400


def assert_fhir_answer(response: httpx.Response) -> Any:
    """Below 500; an error carries an OperationOutcome. The parsed body (or None)."""
    assert response.status_code < 500, (response.status_code, response.text[:2000])
    if response.status_code in (204, 304) or not response.content:
        assert not is_error(response), response.status_code
        return None
    body = response.json()
    if is_error(response):
        assert body.get("resourceType") == "OperationOutcome", body
        assert body.get("issue"), body
    return body


async def stored(db, *collections: str) -> tuple[int, ...]:
    """A fingerprint of the stored data: every version of every resource (the ``history``
    collection gets one document per write, in the same transaction as the resource; the
    audit trail, which records failures too, is left out) and the documents of
    ``collections``."""
    counts = [await db["history"].count_documents({"type": {"$ne": "AuditEvent"}})]
    for name in collections:
        counts.append(await db[name].count_documents({}))
    return tuple(counts)
