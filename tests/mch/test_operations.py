"""The maternal and child health operations over HTTP (issue #14): ``$growth`` (instance,
stateless, store), ``$pregnancy-summary``, ``$immds-forecast`` and ``Observation/$lastn``,
against the real database: the response contracts, what they read, and 4xx for bad input.
The computations themselves are tested against WHO's and the schedules' own figures in the
other test_* modules here; these tests check the wiring with values worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fhir_server.mch.growth import Measurement, assess

from .pregnancy_data import LOINC, UCUM, last_menstrual_period, synthea

FHIR = {"Content-Type": "application/fhir+json"}


def _weight(rid: str, patient: str, day: str, kg: float, unit: str = "kg") -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "vital-signs"}]}],
            "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
            "subject": {"reference": f"Patient/{patient}"}, "effectiveDateTime": day,
            "valueQuantity": {"value": kg, "unit": unit, "system": UCUM, "code": unit}}


def _length(rid: str, patient: str, day: str, cm: float) -> dict[str, Any]:
    return {**_weight(rid, patient, day, cm, "cm"),
            "code": {"coding": [{"system": LOINC, "code": "8306-3"}]}}


def _parts(parameter: dict[str, Any]) -> dict[str, Any]:
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value"))
            for p in parameter["part"]}


def _measurements(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    return [_parts(p) for p in parameters["parameter"] if p["name"] == "measurement"]


async def _child(client) -> None:
    child = {"resourceType": "Patient", "id": "baby", "gender": "female",
             "birthDate": "2024-01-01"}
    assert (await client.put("Patient/baby", json=child, headers=FHIR)).status_code == 201
    for resource in (_weight("w1", "baby", "2024-07-01", 7.2),
                     _length("l1", "baby", "2024-07-01", 66.0),
                     _weight("w2", "baby", "2025-01-01", 5.9)):
        response = await client.put(f"Observation/{resource['id']}", json=resource,
                                    headers=FHIR)
        assert response.status_code == 201, response.text


async def test_growth_follows_the_contract(client):
    await _child(client)
    response = await client.get("Patient/baby/$growth")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resourceType"] == "Parameters"
    found = _measurements(body)
    by_key = {(m["observation"]["reference"], m["indicator"]): m for m in found}
    # w1 at 182 days yields weight-for-age and, with l1 the same day, weight-for-length
    # and BMI-for-age; l1 yields length-for-age; w2 at 366 days weight-for-age.
    assert set(by_key) == {("Observation/w1", "wfa"), ("Observation/w1", "wfl"),
                           ("Observation/w1", "bfa"), ("Observation/l1", "lhfa"),
                           ("Observation/w2", "wfa")}
    expected = {(r.measurement.source, r.indicator): r for r in assess("female", date(
        2024, 1, 1), [
        Measurement("weight", 7.2, "kg", date(2024, 7, 1), source="Observation/w1"),
        Measurement("length", 66.0, "cm", date(2024, 7, 1), "lying", "Observation/l1"),
        Measurement("weight", 5.9, "kg", date(2025, 1, 1), source="Observation/w2")])}
    for key, part in by_key.items():
        assert Decimal(str(part["zScore"])) == Decimal(f"{expected[key].z_score:.2f}")
        assert Decimal(str(part["percentile"])) == Decimal(f"{expected[key].percentile:.1f}")
        assert 0 <= part["percentile"] <= 100
    underweight = by_key[("Observation/w2", "wfa")]
    assert underweight["zScore"] < -2 and underweight["classification"]["code"] in (
        "underweight", "severe-underweight")
    assert "classification" not in by_key[("Observation/l1", "lhfa")]


async def test_growth_stores_percentile_observations_once(client):
    await _child(client)
    for _ in range(2):
        response = await client.post("Patient/baby/$growth?store=true", json={
            "resourceType": "Parameters"}, headers=FHIR)
        assert response.status_code == 200, response.text
    bundle = (await client.get("Observation?code=http://loinc.org|59576-9,"
                               "http://loinc.org|77606-2")).json()
    derived = {e["resource"]["code"]["coding"][0]["code"]: e["resource"]
               for e in bundle["entry"]}
    assert set(derived) == {"59576-9", "77606-2"} and len(bundle["entry"]) == 2
    assert derived["77606-2"]["derivedFrom"] == [{"reference": "Observation/w1"},
                                                 {"reference": "Observation/l1"}]
    assert derived["59576-9"]["valueQuantity"]["code"] == "%"
    refused = await client.get("Patient/baby/$growth?store=true")
    assert refused.status_code == 405


async def test_stateless_growth_takes_the_childs_data_in_a_body(client):
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "sex", "valueCode": "male"}, {"name": "birthDate", "valueDate": "2024-01-01"},
        {"name": "measurement", "part": [
            {"name": "id", "valueString": "m1"},
            {"name": "code", "valueCoding": {"system": LOINC, "code": "29463-7"}},
            {"name": "value", "valueQuantity": {"value": 3.3464, "unit": "kg",
                                                "system": UCUM, "code": "kg"}},
            {"name": "date", "valueDate": "2024-01-01"}]}]}
    response = await client.post("Patient/$growth", json=body, headers=FHIR)
    assert response.status_code == 200, response.text
    [found] = _measurements(response.json())
    # 3.3464 kg is the median (M) of WHO weight-for-age for boys at day 0: z = 0, P50.
    assert found["indicator"] == "wfa" and found["zScore"] == 0 and found["percentile"] == 50
    wrong_unit = {**body, "parameter": [*body["parameter"][:2], {"name": "measurement",
                                                                  "part": [
        {"name": "kind", "valueCode": "weight"},
        {"name": "value", "valueQuantity": {"value": 3.3, "unit": "cm", "system": UCUM,
                                            "code": "cm"}},
        {"name": "date", "valueDate": "2024-01-01"}]}]}
    refused = await client.post("Patient/$growth", json=wrong_unit, headers=FHIR)
    assert refused.status_code == 400 and "cm" in refused.text
    no_sex = {**body, "parameter": body["parameter"][1:]}
    assert (await client.post("Patient/$growth", json=no_sex, headers=FHIR)).status_code == 400
    assert (await client.get("Patient/$growth")).status_code == 405


async def test_growth_of_an_unknown_patient_is_404(client):
    assert (await client.get("Patient/nobody/$growth")).status_code == 404


async def _load(client, resources: list[dict[str, Any]]) -> None:
    entries = [{"resource": r, "request": {"method": "PUT",
                                           "url": f"{r['resourceType']}/{r['id']}"}}
               for r in resources]
    response = await client.post("", json={"resourceType": "Bundle", "type": "transaction",
                                           "entry": entries}, headers=FHIR)
    assert response.status_code == 200, response.text


async def test_pregnancy_summary_dates_the_pregnancy(client):
    # Laurie McCullough (Synthea): prenatal initial visit 2019-01-19; the LMP, 2018-12-01,
    # is added. EDD = LMP + 280 days = 2019-09-07; on 2019-01-19 the gestational age is
    # 49 days (7 weeks): first trimester. Her termination on 2019-02-02 ends the pregnancy
    # but is left out here so that the pregnancy goes on.
    resources = synthea("Laurie_McCullough", leave_out=("9a9d2ed1",))
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    reference = f"Patient/{patient['id']}"
    lmp = last_menstrual_period("lmp-1", "2019-01-19", "2018-12-01", reference)
    await _load(client, [r for r in resources if r["resourceType"] in (
        "Patient", "Encounter", "Condition", "Procedure", "Observation", "Organization",
        "Practitioner", "Location")] + [lmp])
    response = await client.get(f"{reference}/$pregnancy-summary?date=2019-01-19")
    assert response.status_code == 200, response.text
    parts = {p["name"]: p for p in response.json()["parameter"]}
    assert parts["edd"]["valueDate"] == "2019-09-07"
    assert parts["eddMethod"]["valueCoding"]["code"] == "11779-6"
    assert parts["gestationalAge"]["valueQuantity"] == {
        "value": 49, "unit": "d", "system": UCUM, "code": "d"}
    assert parts["trimester"]["valueInteger"] == 1
    contacts = [_parts(p) for p in response.json()["parameter"] if p["name"] == "contact"]
    assert [c["number"] for c in contacts] == list(range(1, 9))
    # Contact 1 is due at 12 weeks (2018-12-01 + 84 days = 2019-02-23): the initial visit
    # of 2019-01-19 falls in its window, so it is done. Contact 2 is due at 20 weeks
    # (+140 days = 2019-04-20), more than 14 days away: upcoming.
    assert contacts[0]["due"] == "2019-02-23" and contacts[0]["status"] == "done"
    assert contacts[0]["encounter"]["reference"].startswith("Encounter/")
    assert contacts[1]["due"] == "2019-04-20" and contacts[1]["status"] == "upcoming"
    earlier = await client.get(f"{reference}/$pregnancy-summary?date=2018-06-01")
    assert [p["name"] for p in earlier.json()["parameter"]] == ["date"]
    assert (await client.get(f"{reference}/$pregnancy-summary?date=soon")).status_code == 400


async def test_immunization_forecast_for_a_child(client):
    child = {"resourceType": "Patient", "id": "kid", "gender": "male",
             "birthDate": "2024-01-01"}
    await client.put("Patient/kid", json=child, headers=FHIR)
    bcg = {"resourceType": "Immunization", "id": "bcg", "status": "completed",
           "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx",
                                       "code": "19"}]},
           "patient": {"reference": "Patient/kid"}, "occurrenceDateTime": "2024-01-02"}
    assert (await client.put("Immunization/bcg", json=bcg, headers=FHIR)).status_code == 201
    response = await client.get(
        "Patient/kid/$immds-forecast?assessmentDate=2024-03-01&schedule=who-routine")
    assert response.status_code == 200, response.text
    parameters = response.json()["parameter"]
    [recommendation] = [p["resource"] for p in parameters if p["name"] == "recommendation"]
    assert recommendation["resourceType"] == "ImmunizationRecommendation"
    assert recommendation["patient"] == {"reference": "Patient/kid"}
    assert any(s.get("reference") == "Immunization/bcg"
               for r in recommendation["recommendation"]
               for s in r.get("supportingImmunization", []))
    unknown = await client.get("Patient/kid/$immds-forecast?schedule=mars")
    assert unknown.status_code == 400


async def test_lastn_keeps_the_latest_of_each_code(client):
    await _child(client)
    response = await client.get("Observation/$lastn?patient=baby")
    assert response.status_code == 200, response.text
    ids = sorted(e["resource"]["id"] for e in response.json()["entry"])
    assert ids == ["l1", "w2"]
    two = await client.get("Observation/$lastn?patient=baby&max=2&code=http://loinc.org|29463-7")
    assert sorted(e["resource"]["id"] for e in two.json()["entry"]) == ["w1", "w2"]
    assert (await client.get("Observation/$lastn?code=29463-7")).status_code == 400


async def test_operations_are_in_the_capability_statement(client):
    capability = (await client.get("metadata")).json()
    patient = next(r for r in capability["rest"][0]["resource"] if r["type"] == "Patient")
    names = {o["name"] for o in patient["operation"]}
    assert {"growth", "pregnancy-summary", "immds-forecast"} <= names
    observation = next(r for r in capability["rest"][0]["resource"]
                       if r["type"] == "Observation")
    assert "lastn" in {o["name"] for o in observation["operation"]}


async def test_patient_summary_gives_the_gestational_age(client):
    today = datetime.now(UTC).date()
    start = today - timedelta(days=70)
    mother = {"resourceType": "Patient", "id": "mum", "gender": "female",
              "birthDate": "1995-05-05"}
    await client.put("Patient/mum", json=mother, headers=FHIR)
    lmp = last_menstrual_period("lmp-mum", (today - timedelta(days=10)).isoformat(),
                                start.isoformat(), "Patient/mum")
    assert (await client.put("Observation/lmp-mum", json=lmp, headers=FHIR)).status_code == 201
    document = (await client.get("Patient/mum/$summary")).json()
    composition = document["entry"][0]["resource"]
    [section] = [s for s in composition["section"] if s["code"]["coding"][0]["code"] == "10162-6"]
    by_url = {e["fullUrl"]: e["resource"] for e in document["entry"]}
    [age] = [by_url[e["reference"]] for e in section["entry"]
             if by_url.get(e["reference"], {}).get("code", {}).get("coding", [{}])[0].get(
                 "code") == "18185-9"]
    days = (date.fromisoformat(age["effectiveDateTime"]) - start).days  # 70, or 71 past midnight
    assert age["valueQuantity"] == {"value": days, "unit": "d",
                                    "system": "http://unitsofmeasure.org", "code": "d"}
    rest = days % 7
    assert f"{days // 7} weeks {rest} day{'' if rest == 1 else 's'}" in section["text"]["div"]
