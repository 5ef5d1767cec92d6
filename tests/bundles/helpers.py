"""Small builders for Bundles used by the bundle tests."""

from __future__ import annotations

import uuid
from typing import Any


def urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def entry(method: str, url: str, resource: dict[str, Any] | None = None,
          full_url: str | None = None, **request: str) -> dict[str, Any]:
    result: dict[str, Any] = {"request": {"method": method, "url": url, **request}}
    if resource is not None:
        result["resource"] = resource
    if full_url is not None:
        result["fullUrl"] = full_url
    return result


def bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def patient(family: str = "Okafor", **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "name": [{"family": family}], **extra}


def observation(subject: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final",
            "code": {"text": "Hemoglobin"}, "subject": {"reference": subject}, **extra}


async def state(db) -> dict[str, int]:
    """Documents per collection: what a rolled-back transaction must leave unchanged."""
    names = await db.list_collection_names()
    return {name: await db[name].count_documents({}) for name in sorted(names)}
