"""The consent filter of one search, as the query planner can best use it.

The general filter (:func:`consent.visible`) says, per patient whose Consents restrict
the actor, "not this patient's data, or data the Consents allow": an ``$or``. A query
planner can still use the search's own index under it (MongoDB does); SecantusDB, the
embedded database, scans the collection as soon as a filter has a top-level operator.

A search of one patient's data (``Patient/<id>/Observation``, ``Observation?patient=<id>``,
a patient-context token; no ``_include``, ``_revinclude``, chains or ``_has``) gets the
one-patient form instead: that patient's Consents applied to every result, and, under an
opt-in policy, "no other patient's data". It is exact for the patient's data and only
stricter for anything else such a search could return, so it never shows more; when it
compiles to plain field conditions (``$nin``, ``$not``), the planner keeps its index.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from consent import OPT_IN, TRUE, to_filter
from consent.expressions import OnlyPatients, all_of, negate

from ..auth.compartment import patient_compartment_types
from .context import PrivacyRequest

__all__ = ["search_filter", "merge"]


def _one_patient(request: Request, resource_type: str | None,
                 patients: set[str] | None) -> str | None:
    if patients is None or len(patients) != 1 or resource_type is None:
        return None
    if resource_type not in patient_compartment_types():
        return None
    if any("." in name or name.startswith("_has") for name in request.query_params):
        return None
    return next(iter(patients))


def _flat(found: dict[str, Any]) -> bool:
    return not any(key.startswith("$") for key in found)


def search_filter(privacy: PrivacyRequest, request: Request, resource_type: str | None,
                  patients: set[str] | None, hide_masked: bool) -> dict[str, Any]:
    """The consent filter for a search whose exact visibility is restricted."""
    patient = _one_patient(request, resource_type, patients)
    if patient is not None:
        own = privacy.own_patient
        if patient == own:
            shown = TRUE
        else:
            view = privacy.view(patient)
            shown = all_of(view.visible, negate(view.masked)) if hide_masked else view.visible
        if privacy.privacy.policy.default == OPT_IN:
            shown = all_of(shown, OnlyPatients(frozenset({patient} | ({own} if own else set()))))
        found = to_filter(shown, privacy.matcher)
        if _flat(found):
            return found
    return to_filter(privacy.visible(hide_masked=hide_masked, ignore_override=True),
                     privacy.matcher)


def _merge_field(first: Any, second: Any) -> Any | None:
    """One field's two conditions as one operator document, when they combine."""
    def operators(value: Any) -> dict[str, Any]:
        if isinstance(value, dict) and value and all(k.startswith("$") for k in value):
            return value
        return {"$all": [value]}

    a, b = operators(first), operators(second)
    if a.keys() & b.keys():
        return None
    return {**a, **b}


def merge(restriction: dict[str, Any] | None, consent: dict[str, Any]) -> dict[str, Any]:
    """Both filters, kept flat (field by field) where they can be."""
    if restriction is None:
        return consent
    if not (_flat(restriction) and _flat(consent)):
        return {"$and": [restriction, consent]}
    merged = dict(restriction)
    for key, value in consent.items():
        if key not in merged:
            merged[key] = value
            continue
        combined = _merge_field(merged[key], value)
        if combined is None:
            return {"$and": [restriction, consent]}
        merged[key] = combined
    return merged
