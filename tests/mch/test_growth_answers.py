"""What ``$growth`` says about the measurements it does not score, and how it names the
client's measurements in the stateless form (docs/maternal-child.md, ``$growth``): each
``skipped`` Observation with its true reason, and ``observation`` always a reference:
``Observation/[id]``, or the ``fullUrl`` of the client's Bundle entry."""

from __future__ import annotations

from typing import Any

from .operation_helpers import FHIR, UCUM, child_bundle, load, observation, weight


def _parts(parameter: dict[str, Any]) -> dict[str, Any]:
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value"))
            for p in parameter["part"]}


def _named(answer: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [_parts(p) for p in answer["parameter"] if p["name"] == name]


def _reasons(answer: dict[str, Any]) -> dict[str | None, str]:
    return {s.get("observation", {}).get("reference"): s["reason"]
            for s in _named(answer, "skipped")}


async def test_each_skipped_observation_has_its_true_reason(mch_server):
    kid = "skip-kid"  # born 2019-01-01
    quantity = {"value": 9.1, "unit": "kg", "system": UCUM, "code": "kg"}
    await load(mch_server, [
        {"resourceType": "Patient", "id": kid, "gender": "female", "birthDate": "2019-01-01"},
        weight("skip-scored", kid, "2019-07-01", 7.3),
        weight("skip-in-error", kid, "2019-07-02", 7.3, status="entered-in-error"),
        weight("skip-cancelled", kid, "2019-07-03", 7.3, status="cancelled"),
        observation("skip-not-done", kid, "29463-7", effectiveDateTime="2019-07-04",
                     dataAbsentReason={"coding": [{
                         "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                         "code": "not-performed"}]}),
        observation("skip-text", kid, "29463-7", effectiveDateTime="2019-07-05",
                     valueString="about 7 kg"),
        observation("skip-no-unit", kid, "29463-7", effectiveDateTime="2019-07-06",
                     valueQuantity={"value": 7.3}),
        weight("skip-stone", kid, "2019-07-07", 1.2, unit="[stone_av]"),
        observation("skip-undated", kid, "29463-7", valueQuantity=quantity),
        observation("skip-month", kid, "29463-7", effectiveDateTime="2019-07",
                     valueQuantity=quantity),
        weight("skip-unborn", kid, "2018-12-01", 3.0),
        # 2025-01-01 is 2,192 days (72.0 months) after birth: WHO's head
        # circumference-for-age ends at 1,856 days, and the 2007 reference has none.
        observation("skip-head", kid, "9843-4", effectiveDateTime="2025-01-01",
                     valueQuantity={"value": 51.0, "unit": "cm", "system": UCUM,
                                    "code": "cm"})])
    response = await mch_server.get(f"Patient/{kid}/$growth")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert {m["observation"]["reference"] for m in _named(answer, "measurement")} == {
        "Observation/skip-scored"}
    assert _reasons(answer) == {
        "Observation/skip-in-error": "its status is entered-in-error",
        "Observation/skip-cancelled": "its status is cancelled",
        "Observation/skip-not-done": "no value (dataAbsentReason not-performed)",
        "Observation/skip-text": "no valueQuantity",
        "Observation/skip-no-unit": "its valueQuantity has no unit",
        "Observation/skip-stone": "unit '[stone_av]' is not a unit of mass (use one of "
                                  "[lb_av], g, kg)",
        "Observation/skip-undated": "no effective date (effectiveDateTime, "
                                    "effectivePeriod.start or effectiveInstant)",
        "Observation/skip-month": "its effective date '2019-07' has no day",
        "Observation/skip-unborn": "a measurement on 2018-12-01 is before the birth date "
                                   "2019-01-01",
        "Observation/skip-head": "outside the age ranges of the growth standards: a "
                                 "head-circumference at 2192 days of age (72.0 months); "
                                 "they cover head circumference-for-age 0 to 1856 days of "
                                 "age (WHO 2006)"}


def _measurement(*parts: dict[str, Any], rid: str | None = None) -> dict[str, Any]:
    named = [{"name": "id", "valueString": rid}] if rid is not None else []
    return {"name": "measurement", "part": [*named, *parts]}


def _weighed(grams: float, day: str) -> list[dict[str, Any]]:
    return [{"name": "kind", "valueCode": "weight"},
            {"name": "value", "valueQuantity": {"value": grams, "unit": "g", "system": UCUM,
                                                "code": "g"}},
            {"name": "date", "valueDate": day}]


async def test_stateless_answers_name_observations_by_reference(mch_server):
    child = [{"name": "sex", "valueCode": "female"},
             {"name": "birthDate", "valueDate": "2024-01-01"}]
    body = {"resourceType": "Parameters", "parameter": [
        *child,
        _measurement(*_weighed(7200, "2024-07-01"), rid="visit-6m-weight"),
        _measurement(*_weighed(7300, "2024-07-02"),
                     rid="urn:uuid:6f1c3b7e-2a47-4d7c-9a51-0f6f0c1d2e3f"),
        # At 2,192 days a head circumference is outside every table (WHO 2006's ends at
        # 1,856 days); given without id, it is skipped without an observation.
        _measurement({"name": "kind", "valueCode": "head-circumference"},
                     {"name": "value", "valueQuantity": {"value": 51, "unit": "cm",
                                                         "system": UCUM, "code": "cm"}},
                     {"name": "date", "valueDate": "2030-01-01"})]}
    response = await mch_server.post("Patient/$growth", json=body, headers=FHIR)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert {m["observation"]["reference"] for m in _named(answer, "measurement")} == {
        "Observation/visit-6m-weight", "urn:uuid:6f1c3b7e-2a47-4d7c-9a51-0f6f0c1d2e3f"}
    [skipped] = _named(answer, "skipped")
    assert "observation" not in skipped and skipped["reason"].startswith(
        "outside the age ranges of the growth standards: a head-circumference at 2192 days")
    bad_id = {**body, "parameter": [*child, _measurement(*_weighed(7200, "2024-07-01"),
                                                         rid="weight at 6 months")]}
    refused = await mch_server.post("Patient/$growth", json=bad_id, headers=FHIR)
    assert refused.status_code == 400 and "measurement[0].id" in refused.text


async def test_stateless_takes_a_bundle_and_answers_its_full_urls(mch_server):
    bundle = child_bundle()
    answers = []
    for body in (bundle, {"resourceType": "Parameters", "parameter": [
            {"name": "bundle", "resource": bundle}]}):
        response = await mch_server.post("Patient/$growth", json=body, headers=FHIR)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    assert answers[0] == answers[1]
    found = {(m["observation"]["reference"], m["indicator"])
             for m in _named(answers[0], "measurement")}
    assert found == {("urn:uuid:0a1b2c3d-0000-4000-8000-000000000001", indicator)
                     for indicator in ("wfa", "wfl", "bfa")} | {("Observation/b-length",
                                                                 "lhfa")}
    assert _reasons(answers[0]) == {
        "urn:uuid:0a1b2c3d-0000-4000-8000-000000000002": "its status is entered-in-error",
        "urn:uuid:0a1b2c3d-0000-4000-8000-000000000003":
            "its subject Patient/sibling is not the Bundle's Patient"}
    anonymous = {**bundle, "entry": [*bundle["entry"][:2], {"resource": {
        key: value for key, value in bundle["entry"][2]["resource"].items() if key != "id"}}]}
    refused = await mch_server.post("Patient/$growth", json=anonymous, headers=FHIR)
    assert refused.status_code == 400 and "Bundle.entry[2]" in refused.text
