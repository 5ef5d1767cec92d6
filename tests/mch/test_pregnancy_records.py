"""What the pregnancy summary reads from FHIR resources (fhir_server/mch/pregnancy/records.py):
codes, units, dates and the records it ignores."""

from __future__ import annotations

from datetime import date

import pytest

from fhir_server.mch.pregnancy import DatingMethod, observation_code_tokens
from fhir_server.mch.pregnancy.records import PatientRecords, calendar_date

from .pregnancy_data import who

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"


def _observation(code: str, **fields) -> dict:
    return {"resourceType": "Observation", "id": fields.pop("id", "o1"), "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]}, **fields}


def _records(*resources) -> PatientRecords:
    return PatientRecords.from_resources(resources)


@pytest.mark.parametrize(("value", "expected"), [
    ("2021-03-24", date(2021, 3, 24)),
    ("2021-03-24T23:30:00-05:00", date(2021, 3, 24)),  # the local date, not UTC's
    ("2021-03", None), ("2021", None), ("2021-02-30", None), (None, None), (20210324, None)])
def test_calendar_date(value, expected):
    assert calendar_date(value) == expected


@pytest.mark.parametrize(("quantity", "days"), [
    ({"value": 15, "system": "http://unitsofmeasure.org", "code": "wk"}, 105),
    ({"value": 12.5, "system": "http://unitsofmeasure.org", "code": "wk"}, 88),  # 87.5
    ({"value": 90, "system": "http://unitsofmeasure.org", "code": "d"}, 90)])
def test_gestational_age_units(quantity, days):
    [estimate] = _records(_observation("11888-5", effectiveDateTime="2021-03-24",
                                       valueQuantity=quantity)).estimates
    assert estimate.method is DatingMethod.ULTRASOUND
    assert (date(2021, 3, 24) - estimate.start).days == days


def test_gestational_age_in_other_units_is_ignored():
    """The WHO SMART ANC example's gestational age is 92.07 "g"."""
    observation = _observation("18185-9", effectiveDateTime="2021-03-24",
                               valueQuantity={"value": 92.07, "code": "g"})
    assert _records(observation).estimates == ()


def test_observation_dated_by_its_encounter():
    """WHO SMART ANC observations have no effective[x]: the Encounter's start dates them."""
    records = _records(*who("first-contact"))
    [estimate] = records.estimates
    assert (estimate.recorded, estimate.source) == (
        date(2021, 3, 24), "Observation/anc-b6-de17-charity-otala-1")


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled", "registered"])
def test_observations_not_made_are_ignored(status):
    observation = _observation("8665-2", status=status, effectiveDateTime="2021-03-24",
                               valueDateTime="2021-01-01")
    assert _records(observation).estimates == ()


def test_resources_without_an_id_are_ignored():
    observation = _observation("8665-2", effectiveDateTime="2021-03-24",
                               valueDateTime="2021-01-01")
    del observation["id"]
    assert _records(observation).estimates == ()


def _encounter(status: str, code: str, system: str = SNOMED, field: str = "type") -> dict:
    return {"resourceType": "Encounter", "id": "e1", "status": status,
            field: [{"coding": [{"system": system, "code": code}]}],
            "period": {"start": "2021-03-24T09:00:00Z"}}


@pytest.mark.parametrize(("encounter", "visit", "initial"), [
    (_encounter("finished", "424441002"), True, True),
    (_encounter("in-progress", "424619006"), True, False),
    (_encounter("finished", "118189007", field="reasonCode"), True, False),
    (_encounter("finished", "ANC.B5.DE3",
                "http://fhir.org/guides/who/anc-cds/CodeSystem/anc-custom-codes"), True, False),
    (_encounter("planned", "424619006"), False, False),
    (_encounter("cancelled", "424441002"), False, False),
    (_encounter("finished", "185349003"), False, False),  # check-up
])
def test_prenatal_contacts(encounter, visit, initial):
    records = _records(encounter)
    assert [v.initial for v in records.visits] == ([initial] if visit else [])
    assert len(records.pregnancy_records) == (1 if initial else 0)


def test_blood_pressure_as_separate_observations():
    systolic = _observation("8480-6", id="s", effectiveDateTime="2021-03-24",
                            valueQuantity={"value": 141, "code": "mm[Hg]"})
    diastolic = _observation("8462-4", id="d", effectiveDateTime="2021-03-24",
                             valueQuantity={"value": 85, "code": "mm[Hg]"})
    kilopascal = _observation("8480-6", id="k", effectiveDateTime="2021-03-24",
                              valueQuantity={"value": 19, "code": "kPa"})
    readings = _records(systolic, diastolic, kilopascal).blood_pressures
    assert [(r.reference, r.systolic, r.diastolic) for r in readings] == [
        ("Observation/s", 141, None), ("Observation/d", None, 85)]


def test_haemoglobin_in_an_unknown_unit_is_ignored():
    hb = _observation("718-7", effectiveDateTime="2021-03-24",
                      valueQuantity={"value": 10, "code": "%"})
    assert _records(hb).haemoglobins == ()


def _condition(system: str, code: str, **fields) -> dict:
    return {"resourceType": "Condition", "id": "c1", "onsetDateTime": "2021-03-24",
            "code": {"coding": [{"system": system, "code": code}]}, **fields}


@pytest.mark.parametrize(("condition", "kind"), [
    (_condition(SNOMED, "398254007"), "hypertension"),  # pre-eclampsia
    (_condition(ICD10, "O13"), "hypertension"),
    (_condition(ICD10, "O14.1"), "hypertension"),  # severe pre-eclampsia
    (_condition(ICD10, "D50.9"), "anaemia"),
    (_condition(ICD10, "O99.01"), "anaemia"),
])
def test_hypertension_and_anaemia_conditions(condition, kind):
    [span] = _records(condition).conditions
    assert (span.kind, span.onset, span.abatement) == (kind, date(2021, 3, 24), None)


def test_refuted_conditions_are_ignored():
    refuted = _condition(SNOMED, "398254007", verificationStatus={"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        "code": "refuted"}]})
    assert _records(refuted).conditions == ()


def test_abatement_after_the_date_is_not_yet_known():
    condition = _condition(SNOMED, "48194001", abatementDateTime="2021-06-01")
    records = _records(condition)
    assert records.conditions[0].abatement == date(2021, 6, 1)
    assert records.until(date(2021, 4, 1)).conditions[0].abatement is None


@pytest.mark.parametrize(("resource", "code"), [
    ({"resourceType": "Procedure", "id": "p", "status": "completed",
      "code": {"coding": [{"system": SNOMED, "code": "11466000"}]},
      "performedPeriod": {"start": "2021-09-01T22:00:00Z", "end": "2021-09-02T01:00:00Z"}},
     "11466000"),
    (_condition(SNOMED, "237364002", onsetDateTime="2021-09-02"), "237364002"),
    (_condition(ICD10, "O03.9", onsetDateTime="2021-09-02"), "O03.9"),
    (_observation("63893-2", effectiveDateTime="2021-09-02", valueCodeableConcept={
        "coding": [{"system": SNOMED, "code": "276507005"}]}), "276507005"),
])
def test_outcomes(resource, code):
    [outcome] = _records(resource).outcomes
    assert (outcome.date, outcome.coding["code"]) == (date(2021, 9, 2), code)


def test_procedures_not_completed_are_no_outcome():
    procedure = {"resourceType": "Procedure", "id": "p", "status": "not-done",
                 "code": {"coding": [{"system": SNOMED, "code": "11466000"}]},
                 "performedDateTime": "2021-09-02"}
    assert _records(procedure).outcomes == ()


def test_observation_code_tokens():
    tokens = observation_code_tokens()
    for code in ("8665-2", "11779-6", "11780-4", "11781-2", "53692-0", "11778-8", "11885-1",
                 "11888-5", "18185-9", "49051-6", "11884-4", "82810-3", "85354-9", "8480-6",
                 "8462-4", "718-7", "59260-0", "63893-2", "93857-1"):
        assert f"{LOINC}|{code}" in tokens
