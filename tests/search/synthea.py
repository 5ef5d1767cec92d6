"""Loading the Synthea transaction bundles with plain PUTs (test helper).

Each bundle's ``urn:uuid:`` references are rewritten to ``Type/id`` (the id being the
uuid), the way a server resolves them when it processes the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

BUNDLES = Path(__file__).parent.parent / "data" / "synthea" / "bundles"

__all__ = ["synthea_resources", "load_resources", "BUNDLES"]


def _rewrite(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _rewrite(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, ids) for v in value]
    if isinstance(value, str) and value in ids:
        return ids[value]
    return value


def bundle_resources(path: Path) -> list[dict[str, Any]]:
    """The resources of one transaction bundle, with references made ``Type/id``."""
    bundle = json.loads(path.read_text())
    ids = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        rid = entry["fullUrl"].removeprefix("urn:uuid:")
        ids[entry["fullUrl"]] = f"{resource['resourceType']}/{rid}"
    resources = []
    for entry in bundle["entry"]:
        resource = _rewrite(entry["resource"], ids)
        resource["id"] = ids[entry["fullUrl"]].split("/", 1)[1]
        resources.append(resource)
    return resources


def synthea_resources() -> Iterator[dict[str, Any]]:
    for path in sorted(BUNDLES.glob("*/*.json")):
        yield from bundle_resources(path)


async def load_resources(client: httpx.AsyncClient, resources: list[dict[str, Any]]) -> None:
    for resource in resources:
        response = await client.put(f"{resource['resourceType']}/{resource['id']}",
                                    json=resource)
        assert response.status_code in (200, 201), response.text[:500]
