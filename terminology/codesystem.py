"""The concepts of a CodeSystem resource and their hierarchy.

https://hl7.org/fhir/R4/codesystem.html
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["CodeSystemConcepts"]

_PARENT_PROPERTIES = ("parent", "subsumedBy")


class CodeSystemConcepts:
    """Every concept of one CodeSystem, with parent links from nesting and from the
    standard ``parent``/``child`` concept properties."""

    def __init__(self, code_system: dict[str, Any]) -> None:
        self.url: str = code_system["url"]
        self.resource = code_system
        self.complete = code_system.get("content") == "complete"
        self.concepts: dict[str, dict[str, Any]] = {}
        self.children: dict[str, set[str]] = {}
        self._add(code_system.get("concept", []), None)

    def _add(self, concepts: list[dict[str, Any]], parent: str | None) -> None:
        for concept in concepts:
            code = concept["code"]
            self.concepts[code] = concept
            if parent is not None:
                self.children.setdefault(parent, set()).add(code)
            for prop in concept.get("property", []):
                if prop.get("code") in _PARENT_PROPERTIES and "valueCode" in prop:
                    self.children.setdefault(prop["valueCode"], set()).add(code)
                elif prop.get("code") == "child" and "valueCode" in prop:
                    self.children.setdefault(code, set()).add(prop["valueCode"])
            self._add(concept.get("concept", []), code)

    def descendants(self, code: str) -> set[str]:
        """Codes below ``code`` (not including it)."""
        found: set[str] = set()
        pending = [code]
        while pending:
            for child in self.children.get(pending.pop(), ()):
                if child not in found:
                    found.add(child)
                    pending.append(child)
        return found

    def parents(self, code: str) -> set[str]:
        """The codes directly above ``code``."""
        return {parent for parent, children in self.children.items() if code in children}

    def display(self, code: str) -> str | None:
        concept = self.concepts.get(code)
        return None if concept is None else concept.get("display")

    def property_values(self, code: str, name: str) -> Iterator[str]:
        """The values of concept property ``name`` on ``code``, as strings."""
        for prop in self.concepts[code].get("property", []):
            if prop.get("code") != name:
                continue
            for key, value in prop.items():
                if key.startswith("value"):
                    yield str(value).lower() if isinstance(value, bool) else str(value)
