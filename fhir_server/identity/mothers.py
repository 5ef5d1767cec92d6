"""A child's mother, for matching children's records.

"Mother's identifiers" are, in FHIR R4 terms, the ``identifier`` of a ``RelatedPerson``
(https://hl7.org/fhir/R4/relatedperson.html) whose ``patient`` is the child and whose
``relationship`` is a mother code of v3 RoleCode (``MTH`` mother, ``NMTH`` natural mother,
``GESTM`` gestational mother) — as the HL7 V2-to-FHIR mapping of PID-21 *Mother's
Identifier* (ConceptMap ``datatype-cx-mother-to-relatedperson``) builds it. Such a
RelatedPerson may travel inside the Patient (``contained``, with ``patient.reference`` ``#``
pointing back at its container, as ``dom-3`` allows) or be stored on its own and passed in
by the caller. The ``patient-mothersMaidenName`` extension is a name, not an identifier, and
is not used.

Levels of :func:`compare_mothers`:

``is-mother``  one record's mother identifiers are the other record's own identifiers:
               a mother and her child, never the same person
``same``       the two records share a mother identifier (the same child, or a sibling)
``different``  both name a mother under a common identifier system, with different values
``missing``    nothing comparable
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .identifiers import identifier_pairs

__all__ = ["MOTHER_LEVELS", "MOTHER_RELATIONSHIPS", "is_mother", "mother_identifiers",
           "compare_mothers"]

MOTHER_LEVELS = ("is-mother", "same", "different", "missing")
_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
MOTHER_RELATIONSHIPS = frozenset({(_ROLE_CODE, "MTH"), (_ROLE_CODE, "NMTH"),
                                  (_ROLE_CODE, "GESTM")})


def is_mother(related_person: Mapping[str, Any]) -> bool:
    """Whether a RelatedPerson's relationship is one of :data:`MOTHER_RELATIONSHIPS`."""
    codings = [coding for concept in related_person.get("relationship") or []
               if isinstance(concept, dict) for coding in concept.get("coding") or []
               if isinstance(coding, dict)]
    return any((c.get("system"), c.get("code")) in MOTHER_RELATIONSHIPS for c in codings)


def _contained_mothers(patient: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in patient.get("contained") or []
            if isinstance(r, dict) and r.get("resourceType") == "RelatedPerson"
            and (r.get("patient") or {}).get("reference") == "#" and is_mother(r)]


def mother_identifiers(patient: Mapping[str, Any],
                       related_persons: Iterable[Mapping[str, Any]] = ()
                       ) -> set[tuple[str | None, str]]:
    """(system, normalised value) of the mother's identifiers: from the Patient's contained
    mother RelatedPersons and from ``related_persons`` (RelatedPersons of this Patient the
    caller found, e.g. ``RelatedPerson?patient=Patient/x``; non-mothers are skipped)."""
    mothers = _contained_mothers(patient) + [
        r for r in related_persons if r.get("resourceType") == "RelatedPerson" and is_mother(r)]
    found: set[tuple[str | None, str]] = set()
    for mother in mothers:
        found |= identifier_pairs(mother.get("identifier") or [])
    return found


def _with_system(pairs: set[tuple[str | None, str]]) -> set[tuple[str | None, str]]:
    return {p for p in pairs if p[0]}


def compare_mothers(a: Mapping[str, Any], b: Mapping[str, Any],
                    a_mothers: set[tuple[str | None, str]],
                    b_mothers: set[tuple[str | None, str]]) -> str:
    """How two Patients relate through their mothers: one of :data:`MOTHER_LEVELS`.
    ``a_mothers``/``b_mothers`` come from :func:`mother_identifiers`."""
    own_a = _with_system(identifier_pairs(a.get("identifier") or []))
    own_b = _with_system(identifier_pairs(b.get("identifier") or []))
    if _with_system(a_mothers) & own_b or _with_system(b_mothers) & own_a:
        return "is-mother"
    if not a_mothers or not b_mothers:
        return "missing"
    if _with_system(a_mothers) & _with_system(b_mothers):
        return "same"
    if {s for s, _ in a_mothers if s} & {s for s, _ in b_mothers if s}:
        return "different"
    return "missing"
