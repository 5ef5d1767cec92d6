"""The Synthea sample (tests/data/synthea, see its SOURCE.md) and what references it holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SYNTHEA = Path(__file__).parent.parent / "data" / "synthea"
BUNDLES = sorted((SYNTHEA / "bundles").glob("*/*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def references(node: Any) -> Iterator[str]:
    """Every ``Reference.reference`` in a resource, contained ones (``#x``) excluded."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                if not value.startswith("#"):
                    yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


async def stored_references(db) -> set[str]:
    found: set[str] = set()
    for name in await db.list_collection_names():
        if name[0].isupper():
            async for doc in db[name].find({}, {"resource": 1}):
                found.update(references(doc["resource"]))
    return found
