"""Reference search parameters.

https://hl7.org/fhir/R4/search.html#reference — ``Type/id``, a bare ``id`` (any allowed
target type), an absolute URL (this server's base is stripped; others match literally),
canonical ``url|version``, the ``:[Type]`` modifier and ``:identifier``
(``Reference.identifier``). Chaining is resolved by the compiler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from profiles.definitions import resource_types

from ...errors import InvalidRequest
from ..filters import RANK_REFERENCE, Condition, Element
from ..paths import Node
from . import IndexContext, split_escaped, unescape

__all__ = ["ReferenceParameter", "ReferenceValue", "local_reference"]

_RELATIVE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


@dataclass(frozen=True)
class ReferenceValue:
    references: tuple[str, ...] = ()
    version: str | None = None
    identifier_system: str | None = None
    identifier_value: str | None = None
    by_identifier: bool = False


def local_reference(text: str, base: str) -> str:
    """``Type/id`` for a reference to this server (relative, or absolute under ``base``),
    else the reference unchanged."""
    if base and text.startswith(base + "/"):
        text = text[len(base) + 1 :]
    match = _RELATIVE.match(text)
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    return text


def _reference_entry(value: Any, type_code: str | None, base: str) -> dict[str, Any] | None:
    if isinstance(value, str):  # canonical or uri
        url, _, version = value.partition("|")
        entry: dict[str, Any] = {"r": local_reference(url, base)}
        if version:
            entry["v"] = version
        return entry
    if not isinstance(value, dict):
        return None
    entry = {}
    reference = value.get("reference")
    if isinstance(reference, str) and reference and not reference.startswith("#"):
        entry["r"] = local_reference(reference, base)
    identifier = value.get("identifier")
    if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
        entry["iv"] = identifier["value"]
        if isinstance(identifier.get("system"), str):
            entry["is"] = identifier["system"]
    return entry or None


class ReferenceParameter:
    name = "reference"
    modifiers = frozenset({"identifier"})

    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]:
        unique: dict[tuple[Any, ...], dict[str, Any]] = {}
        for node in nodes:
            entry = _reference_entry(node.value, node.type_code, context.base)
            if entry:
                unique.setdefault(tuple(sorted(entry.items())), entry)
        return list(unique.values())

    def parse(
        self, text: str, modifier: str | None, parameter: Any, context: IndexContext
    ) -> ReferenceValue:
        raw = unescape(text)
        if modifier == "identifier":
            parts = [unescape(p) for p in split_escaped(text, "|")]
            if len(parts) == 1:
                return ReferenceValue(identifier_value=parts[0], by_identifier=True)
            if len(parts) != 2:
                raise InvalidRequest(f"Invalid identifier '{text[:80]}' for "
                                     f"{parameter.code}:identifier")
            return ReferenceValue(identifier_system=parts[0] or None,
                                  identifier_value=parts[1] or None, by_identifier=True)
        if modifier is not None:  # a resource type
            if "/" in raw and not raw.startswith(modifier + "/"):
                raise InvalidRequest(f"{parameter.code}:{modifier} takes an id of a "
                                     f"{modifier}, not '{raw[:80]}'")
            return ReferenceValue((raw if "/" in raw else f"{modifier}/{raw}",))
        base = context.base
        url, bar, version = raw.partition("|")
        local = local_reference(url, base)
        if "/" in local or ":" in local:
            return ReferenceValue((local,), version or None)
        targets = parameter.target or tuple(sorted(resource_types()))
        return ReferenceValue(tuple(f"{t}/{local}" for t in targets))

    def condition(self, value: ReferenceValue, modifier: str | None, path: str) -> Condition:
        if value.by_identifier:
            match: dict[str, Any] = {}
            if value.identifier_system is not None:
                match["is"] = value.identifier_system
            if value.identifier_value is not None:
                match["iv"] = value.identifier_value
            return Element(path, match, rank=RANK_REFERENCE)
        references = list(value.references)
        target: Any = references[0] if len(references) == 1 else {"$in": references}
        if value.version is not None:
            return Element(path, {"r": target, "v": value.version}, hint=("r", target),
                           rank=RANK_REFERENCE)
        return Element(path, {"r": target}, rank=RANK_REFERENCE)

    def sort_values(self, entries: list[dict[str, Any]]) -> tuple[Any, Any] | None:
        values = [e["r"] for e in entries if "r" in e]
        return (min(values), max(values)) if values else None
