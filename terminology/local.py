"""A terminology service answering from CodeSystems and ValueSets held in memory.

The shipped content is the official R4 (4.0.1) definitions in ``r4/`` (CC0):
``valuesets.json.gz`` (FHIR ValueSets and CodeSystems), ``v3-codesystems.json.gz`` and
``v2-tables.json.gz``.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from .codesystem import CodeSystemConcepts
from .expansion import NotExpandable, expand_compose
from .service import ValueSetExpansion

__all__ = ["LocalTerminology", "shipped_terminology", "SHIPPED_BUNDLES"]

R4_DIR = Path(__file__).with_name("r4")
SHIPPED_BUNDLES = ("valuesets", "v3-codesystems", "v2-tables")


def _canonical(url: str) -> str:
    return url.split("|", 1)[0]


class LocalTerminology:
    """:class:`~terminology.service.TerminologyService` over in-memory resources.

    Expansions are computed on first use and kept (the content never changes in place).
    """

    def __init__(self, resources: Iterable[dict[str, Any]]) -> None:
        self._code_systems: dict[str, dict[str, Any]] = {}
        self._value_sets: dict[str, dict[str, Any]] = {}
        for resource in resources:
            kind = resource.get("resourceType")
            if kind == "CodeSystem" and "url" in resource:
                self._code_systems[resource["url"]] = resource
            elif kind == "ValueSet" and "url" in resource:
                self._value_sets[resource["url"]] = resource
        self._concepts: dict[str, CodeSystemConcepts | None] = {}
        self._expansions: dict[str, ValueSetExpansion | None] = {}
        self._expanding: set[str] = set()

    def code_system(self, url: str) -> CodeSystemConcepts | None:
        """The concepts of the CodeSystem ``url``, or None when it is not held here."""
        url = _canonical(url)
        if url not in self._concepts:
            resource = self._code_systems.get(url)
            self._concepts[url] = None if resource is None else CodeSystemConcepts(resource)
        return self._concepts[url]

    def expand(self, value_set: str) -> ValueSetExpansion | None:
        url = _canonical(value_set)
        if url not in self._expansions:
            self._expansions[url] = self._compute_expansion(url)
        return self._expansions[url]

    def validate_code(self, value_set: str, code: str, system: str | None = None) -> bool | None:
        expansion = self.expand(value_set)
        return None if expansion is None else expansion.has(code, system)

    def _compute_expansion(self, url: str) -> ValueSetExpansion | None:
        resource = self._value_sets.get(url)
        if resource is None or url in self._expanding:
            return None
        self._expanding.add(url)
        try:
            codes = expand_compose(resource, self.code_system, self._codes_of)
        except NotExpandable:
            return None
        finally:
            self._expanding.discard(url)
        return ValueSetExpansion(url, frozenset(codes))

    def _codes_of(self, value_set: str) -> frozenset[tuple[str, str]] | None:
        expansion = self.expand(value_set)
        return None if expansion is None else expansion.contains


def _bundle_resources(name: str) -> list[dict[str, Any]]:
    with gzip.open(R4_DIR / f"{name}.json.gz", "rb") as handle:
        bundle = orjson.loads(handle.read())
    return [entry["resource"] for entry in bundle.get("entry", []) if "resource" in entry]


@cache
def shipped_terminology() -> LocalTerminology:
    """The R4 CodeSystems and ValueSets shipped with the project, loaded once."""
    resources: list[dict[str, Any]] = []
    for name in SHIPPED_BUNDLES:
        resources.extend(_bundle_resources(name))
    return LocalTerminology(resources)
