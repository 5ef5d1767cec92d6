"""Where in a resource consent rules look, per resource type (supplied by the server).

``ResourcePaths.paths(kind)`` maps resource types to dotted element paths:

* ``patient``: the References that put a resource in a patient's compartment;
* ``code``: the CodeableConcepts ``provision.code`` is matched against;
* ``date``: the clinical date strings ``provision.dataPeriod`` is matched against;
* ``reference``: every Reference (``data.meaning = dependents``);
* ``author``: the References naming who wrote it (``data.meaning = authoredby``).

Walking a path goes through arrays at any depth, as a MongoDB dotted path does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

__all__ = ["ResourcePaths", "StaticPaths", "values_at", "KINDS"]

KINDS = ("patient", "code", "date", "reference", "author")


class ResourcePaths(Protocol):
    base: str

    def paths(self, kind: str) -> Mapping[str, tuple[str, ...]]:
        """Resource type -> element paths of that ``kind``."""


class StaticPaths:
    """Paths given as data (tests, and the server's R4 tables once built)."""

    def __init__(self, base: str, tables: Mapping[str, Mapping[str, tuple[str, ...]]]) -> None:
        self.base = base
        self._tables = {kind: dict(tables.get(kind, {})) for kind in KINDS}

    def paths(self, kind: str) -> Mapping[str, tuple[str, ...]]:
        return self._tables[kind]


def values_at(node: Any, path: str) -> Iterator[Any]:
    """The values at a dotted path, arrays flattened at every step."""
    yield from _walk(node, path.split(".") if path else [])


def _walk(node: Any, steps: list[str]) -> Iterator[Any]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, steps)
        return
    if not steps:
        yield node
        return
    if isinstance(node, dict) and steps[0] in node:
        yield from _walk(node[steps[0]], steps[1:])
