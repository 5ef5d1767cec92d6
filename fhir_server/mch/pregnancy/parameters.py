"""The pregnancy summary as the R4 ``Parameters`` resource ``$pregnancy-summary`` returns
(https://hl7.org/fhir/R4/parameters.html; the parts are listed in docs/maternal-child.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from .codes import LOINC
from .summary import PregnancySummary

__all__ = ["summary_parameters"]

UCUM = "http://unitsofmeasure.org"


def _days(value: int) -> dict[str, Any]:
    return {"value": value, "unit": "d", "system": UCUM, "code": "d"}


def _reference(reference: str) -> dict[str, Any]:
    return {"reference": reference}


def _part(name: str, kind: str, value: Any) -> dict[str, Any]:
    return {"name": name, f"value{kind}": value}


def _date(day: date) -> str:
    return day.isoformat()


def _contacts(summary: PregnancySummary) -> list[dict[str, Any]]:
    parameters = []
    for contact in summary.contacts:
        part = [_part("number", "Integer", contact.number),
                _part("due", "Date", _date(contact.due)),
                _part("status", "Code", contact.status)]
        if contact.visit is not None:
            age = summary.gestational_age_on(contact.visit.date)
            part += [_part("encounter", "Reference", _reference(contact.visit.reference)),
                     _part("date", "Date", _date(contact.visit.date))]
            if age is not None:
                part.append(_part("gestationalAge", "Quantity", _days(age)))
        parameters.append({"name": "contact", "part": part})
    return parameters


def _visits(summary: PregnancySummary) -> list[dict[str, Any]]:
    parameters = []
    for visit in summary.visits:
        part = [_part("encounter", "Reference", _reference(visit.reference)),
                _part("date", "Date", _date(visit.date))]
        if (age := summary.gestational_age_on(visit.date)) is not None:
            part.append(_part("gestationalAge", "Quantity", _days(age)))
        parameters.append({"name": "visit", "part": part})
    return parameters


def _dating(summary: PregnancySummary) -> list[dict[str, Any]]:
    if summary.edd is None or summary.edd_method is None or summary.edd_source is None:
        return []
    method = summary.edd_method
    parameters = [
        _part("edd", "Date", _date(summary.edd)),
        _part("eddMethod", "Coding", {"system": LOINC, "code": method.loinc,
                                      "display": method.display}),
        _part("eddSource", "Reference", _reference(summary.edd_source))]
    if summary.gestational_age is not None and summary.trimester is not None:
        parameters += [_part("gestationalAge", "Quantity", _days(summary.gestational_age)),
                       _part("trimester", "Integer", summary.trimester)]
    return parameters


def summary_parameters(summary: PregnancySummary) -> dict[str, Any]:
    """``Parameters`` with, in order: ``date``; when dated ``edd``, ``eddMethod``,
    ``eddSource``, ``gestationalAge`` and ``trimester``; one ``contact`` per contact of the
    WHO model and ``nextContact``; one ``visit`` per recorded antenatal contact; one
    ``flag`` per flag; one ``outcome`` per recorded outcome."""
    parameters = [_part("date", "Date", _date(summary.date)), *_dating(summary),
                  *_contacts(summary)]
    if summary.next_contact is not None:
        number, day = summary.next_contact
        parameters.append({"name": "nextContact", "part": [
            _part("number", "Integer", number), _part("date", "Date", _date(day))]})
    parameters += _visits(summary)
    for flag in summary.flags:
        parameters.append({"name": "flag", "part": [
            _part("code", "Code", flag.code),
            *(_part("evidence", "Reference", _reference(r)) for r in flag.evidence)]})
    for outcome in summary.outcomes:
        coding = {key: outcome.coding[key] for key in ("system", "code", "display")
                  if key in outcome.coding}
        parameters.append({"name": "outcome", "part": [
            _part("code", "Coding", coding), _part("date", "Date", _date(outcome.date)),
            _part("source", "Reference", _reference(outcome.reference))]})
    return {"resourceType": "Parameters", "parameter": parameters}
