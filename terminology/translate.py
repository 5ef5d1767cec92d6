"""``$translate``: codes mapped through ConceptMaps.

https://hl7.org/fhir/R4/conceptmap-operation-translate.html. Every map that applies
(the one named, or those whose source/target value sets or group systems fit) is used;
``reverse`` maps from target to source.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["translate"]

_MATCHING = frozenset({"relatedto", "equivalent", "equal", "wider", "subsumes", "narrower",
                       "specializes", "inexact"})


def _applies(concept_map: dict[str, Any], source: str | None, target: str | None) -> bool:
    map_source = concept_map.get("sourceCanonical") or concept_map.get("sourceUri")
    map_target = concept_map.get("targetCanonical") or concept_map.get("targetUri")
    return (source is None or source == map_source) and (target is None or target == map_target)


def translate(maps: Iterable[dict[str, Any]], system: str | None, code: str, *,
              source: str | None = None, target: str | None = None,
              target_system: str | None = None, reverse: bool = False
              ) -> list[dict[str, Any]]:
    """The matches of ``system#code``: ``{"equivalence", "concept": Coding, "source"}``."""
    matches = []
    for concept_map in maps:
        if not _applies(concept_map, source, target):
            continue
        for group in concept_map.get("group", []):
            matches += _group_matches(concept_map, group, system, code, target_system, reverse)
    return matches


def _group_matches(concept_map: dict[str, Any], group: dict[str, Any], system: str | None,
                   code: str, target_system: str | None, reverse: bool) -> list[dict[str, Any]]:
    from_system, to_system = ((group.get("target"), group.get("source")) if reverse
                              else (group.get("source"), group.get("target")))
    if system is not None and from_system is not None and system != from_system:
        return []
    if target_system is not None and to_system is not None and target_system != to_system:
        return []
    found = []
    for element in group.get("element", []):
        for mapped in element.get("target", []):
            source_code, target_code = ((mapped.get("code"), element.get("code")) if reverse
                                        else (element.get("code"), mapped.get("code")))
            if source_code != code or target_code is None:
                continue
            equivalence = mapped.get("equivalence", "equivalent")
            display = element.get("display") if reverse else mapped.get("display")
            concept = {k: v for k, v in (("system", to_system), ("code", target_code),
                                         ("display", display)) if v}
            found.append({"equivalence": equivalence, "concept": concept,
                          "source": concept_map.get("url"),
                          "matching": equivalence in _MATCHING})
    return found
