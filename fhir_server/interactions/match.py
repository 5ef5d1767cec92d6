"""Finding the stored Patients that may be a given person (the core of R4
``Patient/$match``, https://hl7.org/fhir/R4/patient-operation-match.html, also used by the
HL7 v2 feed and ``fhir-server load`` to resolve incoming patients).

Candidates come from the blocking searches of :func:`fhir_server.identity.candidate_searches`
(identifiers, phones, birth dates with gender, phonetic name keys within the birth year
+-1, the mother's identifiers), each run as an ordinary Patient search with the caller's
access policy: a Patient the caller may not see is never a candidate, never scored, never
counted. A search matching more than :data:`BLOCK_LIMIT` Patients is not a useful block and
is skipped. Patients merged into another (a ``replaced-by`` link) are left out: the
surviving record carries their identifiers. Each candidate is scored with the rules of
``fhir_server/identity/match_rules.json`` (with the mothers its stored RelatedPersons name);
``certainly-not`` ones are dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..errors import BusinessRuleViolation, InvalidRequest
from ..identity import MatchResult, candidate_searches, rank_candidates
from ..identity.mothers import MOTHER_RELATIONSHIPS
from .caller import Caller

__all__ = ["Match", "match_patients", "BLOCK_LIMIT", "replaced_by"]

log = logging.getLogger("fhir_server.identity")
BLOCK_LIMIT = 200
_MOTHERS_LIMIT = 2000


@dataclass(frozen=True)
class Match:
    """A stored Patient (as the caller may see it) and how it compares."""

    resource: dict[str, Any]
    result: MatchResult


def replaced_by(patient: dict[str, Any]) -> str | None:
    """The reference of the Patient this one was merged into, if any."""
    for link in patient.get("link") or []:
        if isinstance(link, dict) and link.get("type") == "replaced-by":
            reference = (link.get("other") or {}).get("reference")
            if isinstance(reference, str):
                return reference
    return None


async def _search(caller: Caller, resource_type: str, params: list[tuple[str, str]],
                  limit: int) -> list[dict[str, Any]] | None:
    """The matches, or None when there are more than ``limit`` (or the search is one the
    server cannot run for this input)."""
    try:
        return await caller.services.search.resources(caller.policy, resource_type, params,
                                                      limit=limit)
    except BusinessRuleViolation:
        return None
    except InvalidRequest as error:
        log.warning("candidate search %s?%s skipped: %s", resource_type, params, error)
        return None


async def _mothers(caller: Caller, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The mother RelatedPersons of each candidate, by candidate id."""
    relationships = ",".join(f"{system}|{code}" for system, code in sorted(MOTHER_RELATIONSHIPS))
    found = await _search(caller, "RelatedPerson", [
        ("patient", ",".join(f"Patient/{i}" for i in ids)),
        ("relationship", relationships)], _MOTHERS_LIMIT) or []
    mothers: dict[str, list[dict[str, Any]]] = {}
    for person in found:
        reference = (person.get("patient") or {}).get("reference", "")
        mothers.setdefault(reference.removeprefix("Patient/"), []).append(person)
    return mothers


async def match_patients(caller: Caller, patient: dict[str, Any]) -> list[Match]:
    """The visible Patients that may be ``patient``, best first (``certainly-not`` ones
    and ``patient`` itself, by id, left out)."""
    found: dict[str, dict[str, Any]] = {}
    for search in candidate_searches(patient, phonetic=True):
        for hit in await _search(caller, "Patient", list(search.parameters), BLOCK_LIMIT) or []:
            found.setdefault(hit["id"], hit)
    candidates = [c for c in found.values()
                  if c["id"] != patient.get("id") and replaced_by(c) is None]
    if not candidates:
        return []
    mothers = await _mothers(caller, sorted(c["id"] for c in candidates))
    ranked = rank_candidates(patient, candidates, candidate_mothers=mothers)
    return [Match(dict(candidate), result) for candidate, result in ranked]
