"""``$lookup`` and ``$subsumes`` over the local code systems.

https://hl7.org/fhir/R4/codesystem-operation-lookup.html,
https://hl7.org/fhir/R4/codesystem-operation-subsumes.html. UCUM has no CodeSystem
resource: a valid UCUM code is its own display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .codesystem import CodeSystemConcepts
from .errors import TerminologyError, UnknownContent
from .local import LocalTerminology
from .ucum import UCUM, is_valid_ucum

__all__ = ["Lookup", "lookup", "subsumes", "concepts_of", "check_system"]


@dataclass
class Lookup:
    """What ``$lookup`` returns about one code."""

    name: str
    version: str | None
    display: str | None
    definition: str | None = None
    designations: list[dict[str, Any]] = field(default_factory=list)
    properties: list[tuple[str, Any]] = field(default_factory=list)
    abstract: bool = False


def concepts_of(terminology: LocalTerminology, system: str) -> CodeSystemConcepts:
    concepts = terminology.code_system(system)
    if concepts is None:
        raise UnknownContent(f"The code system {system} is not known to this server")
    return concepts


def lookup(terminology: LocalTerminology, system: str, code: str,
           concepts: CodeSystemConcepts | None = None) -> Lookup:
    """The details of ``code`` in ``system`` (or in the given ``concepts``)."""
    if concepts is None and system == UCUM:
        if not is_valid_ucum(code):
            raise UnknownContent(f"'{code}' is not a valid UCUM code")
        return Lookup("UCUM", None, code)
    concepts = concepts or concepts_of(terminology, system)
    concept = concepts.concepts.get(code)
    if concept is None:
        subset = "" if concepts.complete else " (this server holds only a subset of it)"
        raise UnknownContent(f"Unknown code '{code}' in the code system {concepts.url}{subset}")
    resource = concepts.resource
    properties: list[tuple[str, Any]] = [("parent", p) for p in sorted(concepts.parents(code))]
    properties += [("child", c) for c in sorted(concepts.children.get(code, ()))]
    for prop in concept.get("property", []):
        value = next((v for k, v in prop.items() if k.startswith("value")), None)
        if prop.get("code") and value is not None:
            properties.append((prop["code"], value))
    return Lookup(resource.get("name") or resource.get("title") or concepts.url,
                  resource.get("version"), concept.get("display"),
                  concept.get("definition"), concept.get("designation", []), properties,
                  _is_abstract(concept))


def _is_abstract(concept: dict[str, Any]) -> bool:
    return any(p.get("code") in ("abstract", "notSelectable") and p.get("valueBoolean") is True
               for p in concept.get("property", []))


def subsumes(terminology: LocalTerminology, system: str, code_a: str, code_b: str,
             concepts: CodeSystemConcepts | None = None) -> str:
    """``equivalent``, ``subsumes`` (A subsumes B), ``subsumed-by`` or ``not-subsumed``."""
    concepts = concepts or concepts_of(terminology, system)
    for code in (code_a, code_b):
        if code not in concepts.concepts:
            raise UnknownContent(f"Unknown code '{code}' in the code system {concepts.url}")
    if code_a == code_b:
        return "equivalent"
    if code_b in concepts.descendants(code_a):
        return "subsumes"
    if code_a in concepts.descendants(code_b):
        return "subsumed-by"
    return "not-subsumed"


def check_system(system: str | None) -> str:
    if not system:
        raise TerminologyError("A system is needed (system, or the system of a coding)")
    return system
