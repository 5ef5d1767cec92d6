"""A terminology service answering from CodeSystems, ValueSets and ConceptMaps in memory.

Two layers: the content shipped with the project (:func:`shipped_terminology`, built once
per process: the official R4 ValueSets and CodeSystems, v3 code systems, v2 tables, R4
ConceptMaps, CVX and the curated LOINC/SNOMED CT subsets in ``data/``), and on top of it
the resources stored in MongoDB (:meth:`LocalTerminology.replace`, refreshed by
:mod:`profiles.stored`). UCUM is not enumerable: codes are checked with a UCUM parser.
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
from .ucum import UCUM, is_valid_ucum

__all__ = ["LocalTerminology", "shipped_terminology", "SHIPPED_BUNDLES", "shipped_resources"]

R4_DIR = Path(__file__).with_name("r4")
DATA_DIR = Path(__file__).with_name("data")
SHIPPED_BUNDLES = ("valuesets", "v3-codesystems", "v2-tables", "conceptmaps")
_KINDS = ("CodeSystem", "ValueSet", "ConceptMap")


def _canonical(url: str) -> str:
    return url.split("|", 1)[0]


class LocalTerminology:
    """:class:`~terminology.service.TerminologyService` over in-memory resources, above an
    optional ``base`` layer. Expansions are computed on first use and kept until
    :meth:`replace` changes this layer."""

    def __init__(self, resources: Iterable[dict[str, Any]] = (),
                 base: LocalTerminology | None = None) -> None:
        self.base = base
        self.replace(resources)

    def replace(self, resources: Iterable[dict[str, Any]]) -> None:
        """Make ``resources`` this layer's whole content."""
        self._resources: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in _KINDS}
        for resource in resources:
            kind = resource.get("resourceType")
            if kind in self._resources and isinstance(resource.get("url"), str):
                self._resources[kind][resource["url"]] = resource
        self._concepts: dict[str, CodeSystemConcepts | None] = {}
        self._expansions: dict[str, ValueSetExpansion | None] = {}
        self._expanding: set[str] = set()

    def resource(self, kind: str, url: str) -> dict[str, Any] | None:
        """The CodeSystem, ValueSet or ConceptMap with canonical ``url``."""
        found = self._resources[kind].get(_canonical(url))
        if found is None and self.base is not None:
            return self.base.resource(kind, url)
        return found

    def resources(self, kind: str) -> list[dict[str, Any]]:
        """Every resource of ``kind`` in all layers (this layer wins on equal URLs)."""
        mine = self._resources[kind]
        below = [] if self.base is None else [
            r for r in self.base.resources(kind) if r["url"] not in mine]
        return [*mine.values(), *below]

    def code_system(self, url: str) -> CodeSystemConcepts | None:
        """The concepts of the CodeSystem ``url``, or None when it is not held here."""
        url = _canonical(url)
        if url not in self._resources["CodeSystem"] and self.base is not None:
            return self.base.code_system(url)
        if url not in self._concepts:
            resource = self._resources["CodeSystem"].get(url)
            self._concepts[url] = None if resource is None else CodeSystemConcepts(resource)
        return self._concepts[url]

    def expand(self, value_set: str) -> ValueSetExpansion | None:
        url = _canonical(value_set)
        if self.base is not None and not self._overrides:
            return self.base.expand(url)
        if url not in self._expansions:
            self._expansions[url] = self._compute_expansion(url)
        return self._expansions[url]

    @property
    def _overrides(self) -> bool:
        """Whether this layer holds anything: then every expansion is computed here, as a
        stored CodeSystem may change what a shipped ValueSet contains."""
        return bool(self._resources["CodeSystem"]) or bool(self._resources["ValueSet"])

    def validate_code(self, value_set: str, code: str, system: str | None = None) -> bool | None:
        expansion = self.expand(value_set)
        if expansion is not None:
            return expansion.has(code, system)
        if system in (None, UCUM) and self._is_all_of_ucum(value_set):
            return is_valid_ucum(code)
        return None

    def _is_all_of_ucum(self, value_set: str) -> bool:
        return self.is_all_of_ucum(self.resource("ValueSet", value_set) or {})

    @staticmethod
    def is_all_of_ucum(value_set: dict[str, Any]) -> bool:
        """Whether ``value_set`` is all of UCUM (not enumerable: codes are parsed)."""
        includes = value_set.get("compose", {}).get("include", [])
        return bool(includes) and all(
            i.get("system") == UCUM and not i.get("concept") and not i.get("filter")
            for i in includes)

    def codes_below(self, system: str, code: str) -> frozenset[str] | None:
        """``code`` and every code it subsumes in ``system`` (the ``:below`` token search
        modifier); None when the code system is not held here."""
        concepts = self.code_system(system)
        if concepts is None:
            return None
        return frozenset({code} | concepts.descendants(code))

    def codes_above(self, system: str, code: str) -> frozenset[str] | None:
        """``code`` and every code that subsumes it in ``system`` (``:above``)."""
        concepts = self.code_system(system)
        if concepts is None:
            return None
        found, pending = {code}, [code]
        while pending:
            for parent in concepts.parents(pending.pop()):
                if parent not in found:
                    found.add(parent)
                    pending.append(parent)
        return frozenset(found)

    def expand_resource(self, value_set: dict[str, Any]) -> ValueSetExpansion | None:
        """The expansion of a ValueSet resource (a known one by its URL, unless it differs
        from the one held here)."""
        url = value_set.get("url")
        if isinstance(url, str) and self.resource("ValueSet", url) == value_set:
            return self.expand(url)
        try:
            codes = expand_compose(value_set, self.code_system, self._codes_of)
        except NotExpandable:
            return None
        return ValueSetExpansion(url or "", frozenset(codes))

    def _compute_expansion(self, url: str) -> ValueSetExpansion | None:
        resource = self.resource("ValueSet", url)
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


def _bundle_resources(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rb") as handle:
        bundle = orjson.loads(handle.read())
    return [entry["resource"] for entry in bundle.get("entry", []) if "resource" in entry]


@cache
def shipped_resources() -> tuple[dict[str, Any], ...]:
    """Every CodeSystem, ValueSet and ConceptMap shipped with the project."""
    resources: list[dict[str, Any]] = []
    for name in SHIPPED_BUNDLES:
        resources.extend(_bundle_resources(R4_DIR / f"{name}.json.gz"))
    for path in sorted(DATA_DIR.glob("*.json")):
        resources.append(orjson.loads(path.read_bytes()))
    return tuple(r for r in resources if r.get("resourceType") in _KINDS)


@cache
def shipped_terminology() -> LocalTerminology:
    """The content shipped with the project, loaded once per process, without the
    narratives (``text``: more than half of it, which no terminology operation reads), so
    that the resources themselves (:func:`shipped_resources`) can be let go once stored."""
    return LocalTerminology({key: value for key, value in resource.items() if key != "text"}
                            for resource in shipped_resources())
