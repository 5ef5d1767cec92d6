"""``$expand`` and ``$validate-code``: a ValueSet's codes, paged and filtered, and
membership of codes in a ValueSet or CodeSystem.

https://hl7.org/fhir/R4/valueset-operation-expand.html,
https://hl7.org/fhir/R4/valueset-operation-validate-code.html,
https://hl7.org/fhir/R4/codesystem-operation-validate-code.html.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .codesystem import CodeSystemConcepts
from .errors import TerminologyError, UnknownContent
from .local import LocalTerminology
from .lookup import concepts_of
from .ucum import UCUM, is_valid_ucum

__all__ = ["expand", "Verdict", "validate_in_value_set", "validate_in_code_system",
           "Coded"]

Coded = tuple[str | None, str, str | None]  # (system, code, display)


def _codes(terminology: LocalTerminology, value_set: dict[str, Any]) -> set[tuple[str, str]]:
    expansion = terminology.expand_resource(value_set)
    if expansion is None:
        raise TerminologyError(
            f"The ValueSet {value_set.get('url', '(posted)')} cannot be expanded by this "
            "server (it draws on content not held here, such as all of SNOMED CT or LOINC)")
    return set(expansion.contains)


def _compose_displays(value_set: dict[str, Any]) -> dict[tuple[str, str], str]:
    displays = {}
    for include in value_set.get("compose", {}).get("include", []):
        for concept in include.get("concept", []):
            if "display" in concept and "system" in include:
                displays[(include["system"], concept["code"])] = concept["display"]
    for item in value_set.get("expansion", {}).get("contains", []):
        if "display" in item and "system" in item and "code" in item:
            displays[(item["system"], item["code"])] = item["display"]
    return displays


def _display(terminology: LocalTerminology, system: str, code: str,
             given: dict[tuple[str, str], str]) -> str | None:
    if (system, code) in given:
        return given[(system, code)]
    concepts = terminology.code_system(system)
    return None if concepts is None else concepts.display(code)


def expand(terminology: LocalTerminology, value_set: dict[str, Any], *,
           text_filter: str | None = None, offset: int = 0, count: int | None = None
           ) -> dict[str, Any]:
    """``value_set`` with an ``expansion``: codes ordered by system then code, those whose
    code or display contains ``text_filter`` (any case), from ``offset``, at most
    ``count``; ``total`` counts all that match."""
    if offset < 0 or (count is not None and count < 0):
        raise TerminologyError("offset and count must not be negative")
    given = _compose_displays(value_set)
    contains = []
    for system, code in sorted(_codes(terminology, value_set)):
        display = _display(terminology, system, code, given)
        if text_filter and not _matches(text_filter, code, display):
            continue
        contains.append({"system": system, "code": code,
                         **({"display": display} if display else {})})
    parameters = [{"name": "offset", "valueInteger": offset}]
    if count is not None:
        parameters.append({"name": "count", "valueInteger": count})
    if text_filter:
        parameters.append({"name": "filter", "valueString": text_filter})
    page = contains[offset:None if count is None else offset + count]
    expansion = {"identifier": f"urn:uuid:{uuid.uuid4()}",
                 "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
                 "total": len(contains), "offset": offset, "parameter": parameters}
    if page:
        expansion["contains"] = page
    result = {k: v for k, v in value_set.items() if k not in ("expansion", "meta", "text")}
    return {**result, "expansion": expansion}


def _matches(text: str, code: str, display: str | None) -> bool:
    wanted = text.casefold()
    return wanted in code.casefold() or (display is not None and wanted in display.casefold())


@dataclass(frozen=True)
class Verdict:
    """The answer of ``$validate-code``."""

    result: bool
    message: str | None = None
    display: str | None = None


def validate_in_value_set(terminology: LocalTerminology, value_set: dict[str, Any],
                          coded: list[Coded]) -> Verdict:
    """Whether any of the ``coded`` values is in ``value_set`` (with a right display)."""
    if not coded:
        raise TerminologyError("$validate-code needs a code, a coding or a codeableConcept")
    url = value_set.get("url", "(posted)")
    ucum_only = terminology.is_all_of_ucum(value_set)
    codes = None if ucum_only else _codes(terminology, value_set)
    given = _compose_displays(value_set)
    problems = []
    for system, code, display in coded:
        if ucum_only and system in (None, UCUM):
            member = is_valid_ucum(code)
            system = UCUM
        else:
            assert codes is not None
            matching = [s for s, c in codes if c == code and system in (None, s)]
            member = bool(matching)
            system = matching[0] if matching else system
        if not member:
            problems.append(f"The code '{system or ''}#{code}' is not in the value set {url}")
            continue
        assert system is not None
        known = _display(terminology, system, code, given)
        if display and known and display.casefold() != known.casefold():
            problems.append(f"Wrong display '{display}' for {system}#{code}: the display is "
                            f"'{known}'")
            continue
        return Verdict(True, None, known)
    return Verdict(False, "; ".join(problems))


def validate_in_code_system(terminology: LocalTerminology, system: str, code: str,
                            display: str | None,
                            concepts: CodeSystemConcepts | None = None) -> Verdict:
    """Whether ``code`` is a code of ``system`` (with a right display)."""
    if concepts is None and system == UCUM:
        valid = is_valid_ucum(code)
        return Verdict(valid, None if valid else f"'{code}' is not a valid UCUM code", code)
    try:
        concepts = concepts or concepts_of(terminology, system)
    except UnknownContent as error:
        return Verdict(False, str(error))
    if code not in concepts.concepts:
        subset = "" if concepts.complete else " (this server holds only a subset of it)"
        return Verdict(False, f"Unknown code '{code}' in the code system {concepts.url}{subset}")
    known = concepts.display(code)
    if display and known and display.casefold() != known.casefold():
        return Verdict(False, f"Wrong display '{display}' for {concepts.url}#{code}: the "
                              f"display is '{known}'", known)
    return Verdict(True, None, known)
