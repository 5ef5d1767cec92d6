"""A forecast as the R4 resources ``$immds-forecast`` returns.

The Immunization Decision Support Forecast IG (ImmDS, http://hl7.org/fhir/us/immds/,
OperationDefinition ``ImmDSForecastOperation``) answers with a ``Parameters`` resource:
``evaluation`` (0..*, ``ImmunizationEvaluation``) and ``recommendation`` (1..1,
``ImmunizationRecommendation``). One ``recommendation`` element per series:

* ``vaccineCode``: the vaccines recommended for the next dose (else the series' vaccine);
* ``targetDisease``: the antigen's SNOMED CT disease;
* ``forecastStatus``: the ImmDS ForecastStatus code (complete, notComplete, agedOut,
  notRecommended, conditional) and, where one applies, the R4 core code
  (http://terminology.hl7.org/CodeSystem/immunization-recommendation-status: due,
  overdue, complete);
* ``forecastReason``: ImmDS ForecastReason ``maximumAge`` when aged out;
* ``dateCriterion``: LOINC 30981-5 earliest date to give, 30980-7 date vaccine due,
  59778-1 date when overdue, 59777-3 latest date to give;
* ``doseNumberPositiveInt`` / ``seriesDosesPositiveInt`` and ``supportingImmunization``
  (the doses counted).
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from .model import (
    DoseEvaluation,
    DueStatus,
    Forecast,
    NotCountedReason,
    SeriesForecast,
    SeriesStatus,
)
from .vaccines import SNOMED, VaccineCatalog, vaccine_catalog

__all__ = ["immunization_recommendation", "immunization_evaluations", "forecast_parameters",
           "IMMDS_FORECAST_STATUS", "IMMDS_FORECAST_REASON", "RECOMMENDATION_STATUS", "LOINC"]

IMMDS_FORECAST_STATUS = "http://hl7.org/fhir/us/immds/CodeSystem/ForecastStatus"
IMMDS_FORECAST_REASON = "http://hl7.org/fhir/us/immds/CodeSystem/ForecastReason"
RECOMMENDATION_STATUS = "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status"
DOSE_STATUS = "http://terminology.hl7.org/CodeSystem/immunization-evaluation-dose-status"
DOSE_STATUS_REASON = (
    "http://terminology.hl7.org/CodeSystem/immunization-evaluation-dose-status-reason")
LOINC = "http://loinc.org"

_IMMDS_STATUS = {
    SeriesStatus.COMPLETE: ("complete", "Complete"),
    SeriesStatus.NOT_STARTED: ("notComplete", "Not Complete"),
    SeriesStatus.IN_PROGRESS: ("notComplete", "Not Complete"),
    SeriesStatus.AGED_OUT: ("agedOut", "Aged Out"),
    SeriesStatus.NOT_RECOMMENDED: ("notRecommended", "Not Recommended"),
    SeriesStatus.CONDITIONAL: ("conditional", "Conditional"),
}
_OUTSIDE_SCHEDULE = (NotCountedReason.TOO_EARLY, NotCountedReason.TOO_SOON,
                     NotCountedReason.TOO_LATE)
_DATE_CRITERIA = (
    ("earliest", "30981-5", "Earliest date to give"),
    ("due", "30980-7", "Date vaccine due"),
    ("overdue", "59778-1", "Date when overdue for immunization"),
    ("latest", "59777-3", "Latest date to give immunization"),
)


def immunization_recommendation(forecast: Forecast, patient_reference: str, *,
                                resource_id: str | None = None) -> dict[str, Any]:
    """The R4 ``ImmunizationRecommendation`` for ``forecast``; ``patient_reference`` such as
    ``"Patient/123"``."""
    catalog = vaccine_catalog()
    resource: dict[str, Any] = {"resourceType": "ImmunizationRecommendation"}
    if resource_id is not None:
        resource["id"] = resource_id
    resource["text"] = {"status": "generated", "div": _narrative(forecast)}
    resource["patient"] = {"reference": patient_reference}
    resource["date"] = forecast.as_of.isoformat()
    resource["recommendation"] = [_recommendation(series, forecast, catalog)
                                  for series in forecast.series]
    return resource


def _narrative(forecast: Forecast) -> str:
    """An XHTML table: series, status, next dose and its due and overdue dates."""
    rows = []
    for series in forecast.series:
        cells = [series.label, series.antigen.display, series.status.value]
        dose = series.next_dose
        cells += ([dose.label, dose.due.isoformat(), dose.overdue.isoformat()]
                  if dose is not None else ["", "", ""])
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in
                   ("Series", "Target disease", "Status", "Next dose", "Due", "Overdue from"))
    return (f'<div xmlns="http://www.w3.org/1999/xhtml"><p>Immunization forecast by '
            f"{escape(forecast.schedule_title)} on {forecast.as_of.isoformat()}</p>"
            f"<table><tr>{head}</tr>{''.join(rows)}</table></div>")


def _recommendation(series: SeriesForecast, forecast: Forecast,
                    catalog: VaccineCatalog) -> dict[str, Any]:
    next_dose = series.next_dose
    vaccines = next_dose.vaccines if next_dose is not None else ()
    item: dict[str, Any] = {}
    if vaccines:
        item["vaccineCode"] = [
            {"coding": catalog.codings(v, with_uip=forecast.uses_uip_codes), "text": v.display}
            for v in vaccines]
    item["targetDisease"] = {
        "coding": [{"system": SNOMED, "code": series.antigen.snomed,
                    "display": series.antigen.display}],
        "text": series.antigen.display}
    item["forecastStatus"] = _forecast_status(series)
    if series.status is SeriesStatus.AGED_OUT:
        item["forecastReason"] = [{"coding": [{"system": IMMDS_FORECAST_REASON,
                                               "code": "maximumAge",
                                               "display": "Maximum Age Exceeded"}],
                                   "text": series.reason}]
    elif series.reason:
        item["forecastReason"] = [{"text": series.reason}]
    if next_dose is not None:
        item["dateCriterion"] = [
            {"code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
             "value": value.isoformat()}
            for attribute, code, display in _DATE_CRITERIA
            if (value := getattr(next_dose, attribute)) is not None]
        item["description"] = f"{series.label}: next dose {next_dose.label}"
    item["series"] = series.label
    if next_dose is not None:
        item["doseNumberPositiveInt"] = next_dose.dose_number
    if series.series_doses > 0:
        item["seriesDosesPositiveInt"] = series.series_doses
    supporting = [{"reference": f"Immunization/{e.dose.id}"}
                  for e in series.valid_doses if e.dose.id]
    if supporting:
        item["supportingImmunization"] = supporting
    return item


def _forecast_status(series: SeriesForecast) -> dict[str, Any]:
    code, display = _IMMDS_STATUS[series.status]
    codings = [{"system": IMMDS_FORECAST_STATUS, "code": code, "display": display}]
    core = None
    if series.status is SeriesStatus.COMPLETE:
        core = ("complete", "Complete")
    elif series.status in (SeriesStatus.NOT_STARTED, SeriesStatus.IN_PROGRESS) and \
            series.next_dose is not None and series.next_dose.status is not DueStatus.NOT_YET_DUE:
        core = (("overdue", "Overdue") if series.next_dose.status is DueStatus.OVERDUE
                else ("due", "Due"))
    if core is not None:
        codings.append({"system": RECOMMENDATION_STATUS, "code": core[0], "display": core[1]})
    text = series.status.value if series.next_dose is None else (
        f"{series.status.value}; next dose {series.next_dose.status.value}")
    return {"coding": codings, "text": text}


def immunization_evaluations(forecast: Forecast, patient_reference: str
                             ) -> list[dict[str, Any]]:
    """One R4 ``ImmunizationEvaluation`` per dose and series, for doses with an id."""
    return [_evaluation(series, evaluation, forecast.as_of, patient_reference)
            for series in forecast.series for evaluation in series.doses
            if evaluation.dose.id]


def _evaluation(series: SeriesForecast, evaluation: DoseEvaluation, as_of: date,
                patient_reference: str) -> dict[str, Any]:
    outcome = "valid" if evaluation.counted else f"not valid ({evaluation.detail})"
    resource: dict[str, Any] = {
        "resourceType": "ImmunizationEvaluation",
        "text": {"status": "generated", "div": (
            f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(series.label)}, '
            f"{escape(evaluation.target or series.label)}: {escape(outcome)}</div>")},
        "status": "completed",
        "patient": {"reference": patient_reference},
        "date": as_of.isoformat(),
        "targetDisease": {"coding": [{"system": SNOMED, "code": series.antigen.snomed,
                                      "display": series.antigen.display}]},
        "immunizationEvent": {"reference": f"Immunization/{evaluation.dose.id}"},
        "doseStatus": {"coding": [
            {"system": DOSE_STATUS, "code": "valid", "display": "Valid"} if evaluation.counted
            else {"system": DOSE_STATUS, "code": "notvalid", "display": "Not valid"}]},
    }
    if not evaluation.counted and evaluation.reason is not None:
        reason: dict[str, Any] = {"text": f"{evaluation.reason.value}: {evaluation.detail}"}
        if evaluation.reason in _OUTSIDE_SCHEDULE:
            reason["coding"] = [{"system": DOSE_STATUS_REASON, "code": "outsidesched",
                                 "display": "Administered outside recommended schedule"}]
        resource["doseStatusReason"] = [reason]
    resource["description"] = evaluation.target or series.label
    resource["series"] = series.label
    if evaluation.dose_number is not None:
        resource["doseNumberPositiveInt"] = evaluation.dose_number
    return resource


def forecast_parameters(forecast: Forecast, patient_reference: str) -> dict[str, Any]:
    """The ``$immds-forecast`` output ``Parameters``: ``evaluation`` resources, then the
    ``recommendation``."""
    parameters = [{"name": "evaluation", "resource": e}
                  for e in immunization_evaluations(forecast, patient_reference)]
    parameters.append({"name": "recommendation",
                       "resource": immunization_recommendation(forecast, patient_reference)})
    return {"resourceType": "Parameters", "parameter": parameters}
