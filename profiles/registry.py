"""Every StructureDefinition the server knows, by canonical URL.

Three layers, later ones shadowing earlier ones: the official R4 definitions (resources,
datatypes, core profiles such as vital signs, core extensions), the project's own
maternal and child health profiles (``profiles/mch/``), and the definitions stored in
MongoDB (implementation guides installed with ``fhir-server ig install`` or created through
the REST API), which :mod:`profiles.stored` refreshes. A definition without a snapshot gets
one generated from its differential (https://hl7.org/fhir/R4/profiling.html#snapshot).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from .definitions import for_validation, load_bundle, structure_definitions
from .profile_tree import ElementNode, compile_tree
from .snapshot import SnapshotError, generate_snapshot

__all__ = ["DefinitionRegistry", "project_definitions", "shipped_definitions", "PROJECT_BASE",
           "MCH_DIR"]

PROJECT_BASE = "https://mch-fhir.org/fhir"
MCH_DIR = Path(__file__).with_name("mch")
_CORE_PROFILES_BUNDLE = "profiles-others"  # stored as shipped content: kept whole
_CORE_EXTENSIONS_BUNDLE = "extension-definitions"  # only validated against

log = logging.getLogger(__name__)


def _canonical(url: str) -> str:
    return url.split("|", 1)[0]


@cache
def _core_extras() -> dict[str, dict[str, Any]]:
    """Core profiles (vital signs, ...: whole, since they are stored as shipped content)
    and core extension definitions (:func:`.definitions.for_validation` copies)."""
    found: dict[str, dict[str, Any]] = {}
    for name, keep in ((_CORE_PROFILES_BUNDLE, lambda sd: sd),
                       (_CORE_EXTENSIONS_BUNDLE, for_validation)):
        for entry in load_bundle(name)["entry"]:
            resource = entry["resource"]
            if resource.get("resourceType") == "StructureDefinition":
                found[resource["url"]] = keep(resource)
    return found


@cache
def project_definitions() -> tuple[dict[str, Any], ...]:
    """The project's own profiles and extensions (``profiles/mch/*.json``)."""
    return tuple(orjson.loads(path.read_bytes()) for path in sorted(MCH_DIR.glob("*.json")))


@cache
def _core_profiles() -> tuple[dict[str, Any], ...]:
    """The core profiles of resources (vital signs, body weight, ...: ``profiles-others``)."""
    return tuple(sd for sd in _core_extras().values()
                 if sd.get("derivation") == "constraint" and sd.get("kind") == "resource")


def shipped_definitions() -> tuple[dict[str, Any], ...]:
    """The StructureDefinitions the server stores as resources on first start (its
    conformance seeding) so that clients can read and search them: the project's own
    profiles and extensions, and the core profiles that resources can claim (vital signs,
    ...).

    Not stored: the 213 base definitions of the resource types and datatypes (31 MB of
    snapshots) and the 393 core extension definitions. They are the specification itself,
    published under the same canonical URLs (https://hl7.org/fhir/R4/profilelist.html);
    storing them would add about 1.5 s of database work to the first start
    (``bench/README.md``, Startup) for content no client discovers through this server.
    """
    return (*project_definitions(), *_core_profiles())


def _profiled_type(definition: dict[str, Any]) -> str | None:
    if definition.get("derivation") == "constraint" and definition.get("kind") == "resource":
        return definition.get("type")
    return None


class DefinitionRegistry:
    """StructureDefinitions by URL with snapshots, and a generation number that changes
    whenever the stored layer does (compiled trees are cached per generation)."""

    def __init__(self, extra: Iterable[dict[str, Any]] = ()) -> None:
        self._project = {sd["url"]: sd for sd in project_definitions()}
        self._stored: dict[str, dict[str, Any]] = {}
        self._snapshots: dict[str, dict[str, Any] | None] = {}
        self._trees: dict[str, ElementNode | None] = {}
        self.generation = 0
        self.add(extra)

    def add(self, definitions: Iterable[dict[str, Any]]) -> None:
        """Add (or replace) definitions in the stored layer."""
        for definition in definitions:
            if definition.get("resourceType") == "StructureDefinition" and "url" in definition:
                self._stored[definition["url"]] = definition
        self._invalidate()

    def replace_stored(self, definitions: Iterable[dict[str, Any]]) -> None:
        """Make ``definitions`` the whole stored layer (a refresh from MongoDB)."""
        self._stored = {}
        self.add(definitions)

    def _invalidate(self) -> None:
        self._snapshots = {}
        self._trees = {}
        self.generation += 1

    def raw(self, url: str) -> dict[str, Any] | None:
        """The definition as given, possibly without a snapshot."""
        url = _canonical(url)
        return (self._stored.get(url) or self._project.get(url)
                or structure_definitions().get(url) or _core_extras().get(url))

    def get(self, url: str) -> dict[str, Any] | None:
        """The definition with a snapshot (generated when missing), or None when unknown
        or when its snapshot cannot be generated."""
        url = _canonical(url)
        if url in self._snapshots:
            return self._snapshots[url]
        definition = self.raw(url)
        if definition is not None and "snapshot" not in definition:
            self._snapshots[url] = None  # guards against a cycle of base definitions
            definition = self._with_snapshot(definition)
        self._snapshots[url] = definition
        return definition

    def _with_snapshot(self, definition: dict[str, Any]) -> dict[str, Any] | None:
        base = self.get(definition.get("baseDefinition", ""))
        if base is None:
            log.warning("No base definition %s for %s", definition.get("baseDefinition"),
                        definition.get("url"))
            return None
        try:
            return {**definition, "snapshot": {"element": generate_snapshot(definition, base,
                                                                             self.get)}}
        except SnapshotError as error:
            log.warning("Cannot generate the snapshot of %s: %s", definition.get("url"), error)
            return None

    def tree(self, url: str) -> ElementNode | None:
        """The compiled element tree of ``url`` (cached until the stored layer changes)."""
        url = _canonical(url)
        if url not in self._trees:
            definition = self.get(url)
            self._trees[url] = None if definition is None else compile_tree(definition)
        return self._trees[url]

    def stored_definitions(self) -> list[dict[str, Any]]:
        """The stored layer as given (installed guides, user-created definitions)."""
        return list(self._stored.values())

    def knows(self, url: str) -> bool:
        return self.raw(url) is not None

    def urls(self) -> list[str]:
        """Every non-core definition (project and stored), for listings."""
        return sorted(set(self._project) | set(self._stored))

    def supported_profiles(self) -> dict[str, list[str]]:
        """Canonical URLs of the resource profiles known here, by resource type: core
        profiles, the project's, and stored ones (installed guides, client-created). The
        CapabilityStatement lists them as ``rest.resource.supportedProfile``
        (https://hl7.org/fhir/R4/capabilitystatement-definitions.html#CapabilityStatement.rest.resource.supportedProfile)."""
        by_url = {sd["url"]: sd for sd in _core_profiles()} | self._project | self._stored
        found: dict[str, list[str]] = {}
        for url, definition in sorted(by_url.items()):
            resource_type = _profiled_type(definition)
            if resource_type:
                found.setdefault(resource_type, []).append(url)
        return found
