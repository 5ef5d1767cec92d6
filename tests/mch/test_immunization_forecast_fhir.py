"""The forecast as R4 resources: ImmunizationRecommendation (ImmDS ``$immds-forecast``
output), ImmunizationEvaluation and the output Parameters, checked for content and by the
project's validator (no database needed)."""

from __future__ import annotations

from datetime import date

import pytest

from fhir_server.mch.immunization import (
    forecast,
    forecast_parameters,
    immunization_evaluations,
    immunization_recommendation,
)
from profiles.policy import ProfilePolicy
from profiles.validator import Validator

from .immunization_helpers import UIP, immunization

IMMDS_STATUS = "http://hl7.org/fhir/us/immds/CodeSystem/ForecastStatus"
R4_STATUS = "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status"
SNOMED = "http://snomed.info/sct"


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(policy=ProfilePolicy())


@pytest.fixture(scope="module")
def uip_forecast():
    """UIP, child born 2024-01-01 seen on 2024-03-20: BCG at birth, pentavalent and OPV at
    6 weeks, an OPV entered in error, no rotavirus yet."""
    doses = [immunization("19", "2024-01-01", rid="bcg"),
             immunization("198", "2024-02-12", rid="penta-1"),
             immunization("OPV", "2024-02-12", system=UIP, rid="opv-1"),
             immunization("178", "2024-02-13", status="entered-in-error", rid="opv-error")]
    return forecast("india-uip", date(2024, 1, 1), doses, date(2024, 3, 20))


def recommendation_for(resource, snomed):
    found = [r for r in resource["recommendation"]
             if r["targetDisease"]["coding"][0]["code"] == snomed]
    assert found, snomed
    return found


def codes(concept, system):
    return [c["code"] for c in concept["coding"] if c["system"] == system]


def criteria(item):
    return {c["code"]["coding"][0]["code"]: c["value"] for c in item.get("dateCriterion", [])}


def test_one_recommendation_per_series(uip_forecast):
    resource = immunization_recommendation(uip_forecast, "Patient/child")
    assert resource["resourceType"] == "ImmunizationRecommendation"
    assert resource["patient"] == {"reference": "Patient/child"}
    assert resource["date"] == "2024-03-20"
    assert len(resource["recommendation"]) == len(uip_forecast.series)
    assert [r["series"] for r in resource["recommendation"]][:2] == [
        "BCG", "Hepatitis B (birth dose and pentavalent)"]


def test_due_dose_has_status_dates_dose_number_and_supporting_immunization(uip_forecast):
    """Pentavalent-2 for the Hib series: due on 2024-03-11 (4 weeks after pentavalent-1),
    overdue 4 weeks later, latest the day before the first birthday."""
    resource = immunization_recommendation(uip_forecast, "Patient/child")
    [hib] = recommendation_for(resource, "709410003")
    assert codes(hib["forecastStatus"], IMMDS_STATUS) == ["notComplete"]
    assert codes(hib["forecastStatus"], R4_STATUS) == ["due"]
    assert criteria(hib) == {"30981-5": "2024-03-11", "30980-7": "2024-03-11",
                             "59778-1": "2024-04-08", "59777-3": "2024-12-31"}
    assert hib["doseNumberPositiveInt"] == 2
    assert hib["seriesDosesPositiveInt"] == 3
    assert hib["supportingImmunization"] == [{"reference": "Immunization/penta-1"}]
    assert codes(hib["vaccineCode"][0], "http://hl7.org/fhir/sid/cvx") == ["198"]
    assert codes(hib["vaccineCode"][0], UIP) == ["PENTA"]


def test_complete_overdue_and_conditional_statuses(uip_forecast):
    resource = immunization_recommendation(uip_forecast, "Patient/child")
    [bcg] = recommendation_for(resource, "56717001")
    assert codes(bcg["forecastStatus"], IMMDS_STATUS) == ["complete"]
    assert codes(bcg["forecastStatus"], R4_STATUS) == ["complete"]
    assert "dateCriterion" not in bcg and "doseNumberPositiveInt" not in bcg
    [rota] = recommendation_for(resource, "18624000")
    assert codes(rota["forecastStatus"], R4_STATUS) == ["overdue"]
    [je] = recommendation_for(resource, "52947006")
    assert codes(je["forecastStatus"], IMMDS_STATUS) == ["conditional"]
    assert codes(je["forecastStatus"], R4_STATUS) == []
    assert "je-endemic-district" in je["forecastReason"][0]["text"]
    [measles] = recommendation_for(resource, "14189004")
    assert codes(measles["forecastStatus"], R4_STATUS) == []   # not yet due


def test_aged_out_series_has_the_immds_status_and_reason():
    """WHO rotavirus: not after 24 months."""
    result = forecast("who-routine", date(2022, 1, 1), [], date(2024, 2, 1))
    resource = immunization_recommendation(result, "Patient/child")
    [rota] = recommendation_for(resource, "18624000")
    assert codes(rota["forecastStatus"], IMMDS_STATUS) == ["agedOut"]
    assert codes(rota["forecastReason"][0],
                 "http://hl7.org/fhir/us/immds/CodeSystem/ForecastReason") == ["maximumAge"]
    assert "dateCriterion" not in rota
    assert "seriesDosesPositiveInt" not in rota and "supportingImmunization" not in rota


def test_evaluations_mark_valid_and_not_valid_doses():
    """UIP: pentavalent at 5 weeks is given before the minimum age of 6 weeks."""
    result = forecast("india-uip", date(2024, 1, 1),
                      [immunization("198", "2024-02-05", rid="early"),
                       immunization("198", "2024-02-12", rid="valid")], date(2024, 2, 20))
    evaluations = [e for e in immunization_evaluations(result, "Patient/child")
                   if e["targetDisease"]["coding"][0]["code"] == "27836007"]
    assert [(e["immunizationEvent"]["reference"], e["doseStatus"]["coding"][0]["code"])
            for e in evaluations] == [("Immunization/early", "notvalid"),
                                      ("Immunization/valid", "valid")]
    reason = evaluations[0]["doseStatusReason"][0]
    assert reason["coding"][0]["code"] == "outsidesched"
    assert reason["text"].startswith("too-early: given before the minimum age of 6w")
    assert evaluations[1]["doseNumberPositiveInt"] == 1


def test_resources_are_valid_r4(validator, uip_forecast):
    who_forecast = forecast("who-routine", date(2022, 1, 1),
                            [immunization("119", "2022-02-12", rid="rv1")], date(2024, 2, 1),
                            sex="female")
    for result in (uip_forecast, who_forecast):
        resource = immunization_recommendation(result, "Patient/child", resource_id="forecast")
        assert validator.validate(resource, detailed=True) == []
        parameters = forecast_parameters(result, "Patient/child")
        assert parameters["parameter"][-1]["name"] == "recommendation"
        assert validator.validate(parameters, detailed=True) == []


def test_validator_catches_a_broken_recommendation(validator, uip_forecast):
    """The structural check is not vacuous: without forecastStatus the resource fails."""
    resource = immunization_recommendation(uip_forecast, "Patient/child")
    del resource["recommendation"][0]["forecastStatus"]
    issues = validator.validate(resource)
    assert [(i.severity, i.expression) for i in issues] == [
        ("error", ("ImmunizationRecommendation.recommendation[0].forecastStatus",))]
