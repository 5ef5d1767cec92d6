"""Sample resources for comparing search-expression evaluators (test helper).

:func:`generated` builds, from a resource's core StructureDefinition, a resource in which
every element is present (datatypes to a bounded depth), each choice element ``x[x]``
taking its ``variant``-th type, so that a handful of variants covers every type of every
choice element. :func:`examples` gives the real resources shipped in ``tests/data``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from profiles.definitions import structure_definition

__all__ = ["generated", "variants", "examples"]

DATA = Path(__file__).parent.parent / "data"
_PRIMITIVES: dict[str, Any] = {
    "boolean": True, "integer": 7, "unsignedInt": 8, "positiveInt": 9,
    "decimal": Decimal("1.5"), "date": "2020-01-02", "dateTime": "2020-01-02T03:04:05Z",
    "instant": "2020-01-02T03:04:05.000Z", "time": "03:04:05", "uri": "http://example.org/u",
    "url": "http://example.org/l", "canonical": "http://example.org/c|1", "id": "id1",
    "oid": "urn:oid:1.2.3", "uuid": "urn:uuid:7c8e3c54-0000-4000-8000-000000000000",
    "base64Binary": "AAAA",
}
_TEXTS = ("string", "code", "markdown")
_TARGETS = ("Patient", "Practitioner", "Location", "RelatedPerson", "Organization", "Group",
            "Device")
_SKIPPED = ("extension", "modifierExtension", "contained", "id")
_MAX_DEPTH = 3


@cache
def _elements(type_name: str) -> tuple[dict[str, Any], ...]:
    definition = structure_definition(type_name)
    if definition is None or "snapshot" not in definition:
        return ()
    return tuple(definition["snapshot"]["element"])


def variants(resource_type: str) -> int:
    """How many variants cover every type of the resource's widest choice element."""
    return max([len(e.get("type", [])) for e in _elements(resource_type)
                if e["path"].endswith("[x]")] + [1])


class _Builder:
    def __init__(self, variant: int) -> None:
        self.variant = variant
        self.counter = 0

    def complex(self, elements: tuple[dict[str, Any], ...], path: str, depth: int
                ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        prefix = path + "."
        for element in elements:
            name = element["path"][len(prefix):]
            if (not element["path"].startswith(prefix) or "." in name or name in _SKIPPED
                    or "contentReference" in element or not element.get("type")):
                continue
            types = [t["code"] for t in element["type"]]
            if name.endswith("[x]"):
                kind = types[self.variant % len(types)]
                key = name[:-3] + kind[0].upper() + kind[1:]
            else:
                kind, key = types[0], name
            value = self.value(elements, element["path"], kind, depth)
            if value is not None:
                found[key] = [value] if element.get("max") == "*" else value
        return found

    def value(self, elements: tuple[dict[str, Any], ...], path: str, kind: str, depth: int
              ) -> Any:
        self.counter += 1
        if kind in _PRIMITIVES:
            return _PRIMITIVES[kind]
        if kind in _TEXTS or kind.startswith("http://hl7.org/fhirpath/System."):
            return f"text{self.counter}"
        if kind in ("BackboneElement", "Element"):
            if depth > _MAX_DEPTH:
                return None
            return self.complex(elements, path, depth + 1) or None
        if kind == "Reference":
            target = _TARGETS[(self.variant + self.counter) % len(_TARGETS)]
            return {"reference": f"{target}/r{self.counter}", "display": "shown"}
        if kind == "Resource":
            return {"resourceType": "Patient", "id": "inner", "gender": "female"}
        if depth >= _MAX_DEPTH or (depth > 0 and kind in ("Extension", "Narrative", "Meta")):
            return None
        return self.complex(_elements(kind), kind, depth + 1) or None


def generated(resource_type: str, variant: int) -> dict[str, Any]:
    resource = _Builder(variant).complex(_elements(resource_type), resource_type, 0)
    return {"resourceType": resource_type, "id": "sample", **resource}


def examples() -> Iterator[dict[str, Any]]:
    """Every resource in the JSON files of ``tests/data`` (Bundle entries included)."""
    for path in sorted(DATA.rglob("*.json")):
        try:
            content = json.loads(path.read_text(), parse_float=Decimal)
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(content, dict) and isinstance(content.get("resourceType"), str):
            yield content
            for entry in content.get("entry", []) if content["resourceType"] == "Bundle" else []:
                if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                    yield entry["resource"]
