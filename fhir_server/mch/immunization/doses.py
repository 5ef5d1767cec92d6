"""Administered doses, read from R4 ``Immunization`` resources or given directly.

Only a dose that was given counts: ``status`` ``completed``
(https://hl7.org/fhir/R4/valueset-immunization-status.html); ``entered-in-error`` and
``not-done`` records, subpotent doses (``isSubpotent``), and records without a day-precise
``occurrenceDateTime`` are set aside with the reason, as are vaccines the catalog does not
know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .vaccines import VaccineCatalog, VaccineType

__all__ = ["AdministeredDose", "IgnoredImmunization", "read_immunizations"]

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class AdministeredDose:
    """A vaccine given on a day. ``id``: the Immunization's id, when there is one."""

    id: str | None
    vaccine: VaccineType
    date: date


@dataclass(frozen=True)
class IgnoredImmunization:
    """An Immunization left out of the forecast, and why."""

    id: str | None
    reason: str


def read_immunizations(immunizations: Iterable[Mapping[str, Any] | AdministeredDose],
                       catalog: VaccineCatalog
                       ) -> tuple[list[AdministeredDose], list[IgnoredImmunization]]:
    """The doses to evaluate and the records set aside (each id read once)."""
    doses: list[AdministeredDose] = []
    ignored: list[IgnoredImmunization] = []
    seen: set[str] = set()
    for item in immunizations:
        if isinstance(item, AdministeredDose):
            doses.append(item)
            continue
        rid = item.get("id")
        if rid is not None:
            if rid in seen:
                continue
            seen.add(rid)
        dose = _dose(item, catalog)
        if isinstance(dose, str):
            ignored.append(IgnoredImmunization(rid, dose))
        else:
            doses.append(dose)
    return doses, ignored


def _dose(resource: Mapping[str, Any], catalog: VaccineCatalog) -> AdministeredDose | str:
    """The dose an Immunization records, or the reason it is set aside."""
    status = resource.get("status")
    if status != "completed":
        return f"status is '{status}', only completed doses count"
    if resource.get("isSubpotent") is True:
        return "the dose is subpotent (isSubpotent)"
    occurrence = resource.get("occurrenceDateTime")
    match = _DAY.match(occurrence) if isinstance(occurrence, str) else None
    if match is None:
        return "no occurrenceDateTime with a day"
    try:
        given = date(*(int(part) for part in match.groups()))
    except ValueError:
        return f"occurrenceDateTime '{occurrence}' is not a date"
    codings = [(c.get("system"), c.get("code"))
               for c in (resource.get("vaccineCode") or {}).get("coding", [])
               if isinstance(c, Mapping)]
    vaccine = catalog.vaccine_for(codings)
    if vaccine is None:
        codes = ", ".join(f"{system}|{code}" for system, code in codings) or "no coding"
        return f"vaccine code not known to the schedules ({codes})"
    return AdministeredDose(resource.get("id"), vaccine, given)
