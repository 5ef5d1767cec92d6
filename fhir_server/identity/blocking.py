"""Blocking: the cheap searches that find the candidates ``$match`` then scores.

Scoring every stored Patient is out of the question; each search here uses an indexed
R4 Patient search parameter (https://hl7.org/fhir/R4/patient.html#search) and finds a
small set that a true match is very likely to be in: the same identifier value, the same
phone, the same birth date (or its day/month swap, or the year either side) and sex, or the
same initials born within a year, or the mother's identifier. The caller runs each search
through the access-controlled search, takes the union of the results and scores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .birth_dates import parse_birth_date, swapped_day_month
from .contact import phone_numbers
from .health_id import SEPARATORS
from .mothers import mother_identifiers
from .names import patient_names, phonetic_key

__all__ = ["CandidateSearch", "candidate_searches"]

_MIN_VALUE_ONLY = 6


@dataclass(frozen=True)
class CandidateSearch:
    """One Patient search: ``parameters`` as (name, value) pairs, and why it is run."""

    parameters: tuple[tuple[str, str], ...]
    reason: str


def _escape(value: str) -> str:
    """A token value with FHIR search's reserved characters escaped (search.html#escaping)."""
    for char in ("\\", "|", ",", "$"):
        value = value.replace(char, "\\" + char)
    return value


def _identifier_searches(patient: Mapping[str, Any]) -> list[CandidateSearch]:
    searches = []
    for identifier in patient.get("identifier") or []:
        if not isinstance(identifier, dict) or not isinstance(identifier.get("value"), str):
            continue
        value, system = identifier["value"].strip(), identifier.get("system")
        compact = "".join(c for c in value if c not in SEPARATORS)
        for written in dict.fromkeys((value, compact)):
            if system:
                searches.append(CandidateSearch(
                    (("identifier", f"{_escape(system)}|{_escape(written)}"),), "identifier"))
            if len(written) >= _MIN_VALUE_ONLY or not system:
                searches.append(CandidateSearch((("identifier", _escape(written)),),
                                                "identifier value in any system"))
    return searches


def _phone_searches(patient: Mapping[str, Any]) -> list[CandidateSearch]:
    written = {t["value"].strip() for t in patient.get("telecom") or []
               if isinstance(t, dict) and t.get("system") in ("phone", "sms")
               and isinstance(t.get("value"), str)}
    values = sorted(written | phone_numbers(patient))
    return [CandidateSearch((("phone", _escape(v)),), "phone") for v in values if v]


def _birth_date_searches(patient: Mapping[str, Any]) -> list[CandidateSearch]:
    birth_date = patient.get("birthDate")
    parsed = parse_birth_date(birth_date)
    if parsed is None:
        return []
    year, month, day = parsed
    dates = [str(birth_date)[:10]]
    if month is not None and day is not None:
        swapped = swapped_day_month(dates[0])
        dates += [swapped] if swapped else []
        dates += [f"{y:04d}-{month:02d}-{day:02d}" for y in (year - 1, year + 1)
                  if not (month == 2 and day == 29)]
        if (month, day) == (1, 1):
            dates.append(f"{year:04d}")
    gender = patient.get("gender")
    sex = (("gender", gender),) if gender in ("male", "female") else ()
    return [CandidateSearch((("birthdate", d), *sex), "birth date") for d in dates]


def _initials(patient: Mapping[str, Any]) -> set[tuple[str, str]]:
    pairs = set()
    for name in patient_names(patient):
        if name.given and name.family:
            pairs.add((name.given[0][0], name.family[0][0]))
            pairs.add((name.family[0][0], name.given[0][0]))
    return pairs


def _name_searches(patient: Mapping[str, Any], phonetic: bool) -> list[CandidateSearch]:
    parsed = parse_birth_date(patient.get("birthDate"))
    window = ((("birthdate", f"ge{parsed[0] - 1:04d}"), ("birthdate", f"le{parsed[0] + 1:04d}"))
              if parsed else ())
    if phonetic:
        words: dict[str, str] = {}
        for name in patient_names(patient):
            for word in name.given + name.family:
                if len(word) > 1:
                    words.setdefault(phonetic_key(word), word)
        return [CandidateSearch((("phonetic", words[k]), *window), "phonetic name key")
                for k in sorted(words)]
    if not window:
        return []
    return [CandidateSearch((("given", given), ("family", family), *window),
                            "initials and birth year")
            for given, family in sorted(_initials(patient))]


def _mother_searches(patient: Mapping[str, Any],
                     mothers: list[Mapping[str, Any]]) -> list[CandidateSearch]:
    return [CandidateSearch(
        (("_has:RelatedPerson:patient:identifier", f"{_escape(system)}|{_escape(value)}"),),
        "mother's identifier")
        for system, value in sorted(mother_identifiers(patient, mothers), key=str) if system]


def candidate_searches(patient: Mapping[str, Any], *, phonetic: bool = False,
                       mothers: list[Mapping[str, Any]] | None = None
                       ) -> list[CandidateSearch]:
    """The Patient searches whose union holds the candidates for ``patient``, without
    duplicates. ``phonetic=True`` searches the ``phonetic`` parameter (one name word per
    :func:`~.names.phonetic_key`, for a server that indexes it by that key, as this one
    does) instead of initials.
    ``mothers`` are RelatedPersons of ``patient`` beyond the contained ones."""
    found: dict[tuple[tuple[str, str], ...], CandidateSearch] = {}
    for search in (_identifier_searches(patient) + _phone_searches(patient)
                   + _birth_date_searches(patient) + _name_searches(patient, phonetic)
                   + _mother_searches(patient, mothers or [])):
        found.setdefault(search.parameters, search)
    return list(found.values())
