"""``Patient/[id]/$growth`` and ``Patient/$growth``: WHO growth z-scores and percentiles.

The instance form reads the child's growth Observations (body weight, length/height, head
and mid-upper arm circumference, BMI: :data:`MEASUREMENTS`) and gestational age at birth
(LOINC 76516-4) through the caller's access policy; the type-level form (POST) takes sex,
birth date, gestational age at birth and measurements in a ``Parameters`` body, or a
Bundle of the child's Patient and Observations, for apps that keep data offline (what is
read: :mod:`._growth_records`). Computation: :mod:`fhir_server.mch.growth` (WHO
2006/2007, INTERGROWTH-21st). The answer is a ``Parameters`` with one ``measurement`` part
per measurement and indicator: ``observation`` (valueReference), ``indicator``
(valueCode), ``zScore`` (valueDecimal, two decimals), ``percentile`` (valueDecimal, 0-100,
one decimal, from the unrounded z-score), ``classification`` (valueCoding, absent when
normal) and ``flag`` (valueCode, WHO's implausible-value flags, absent when none); and one
``skipped`` part (``observation``, ``reason``) per Observation that yields nothing, with
its true reason. The OperationDefinition is ``definitions/Patient-growth.json``. A POST of the
instance form with ``store=true`` also writes the US Core percentile Observations
(BMI-for-age 59576-9, weight-for-length 77606-2, head circumference 8289-1) with
``derivedFrom`` their source; writing them again replaces them (one per source).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from starlette.responses import Response

from .. import interactions
from ..errors import InvalidRequest, MethodNotAllowed
from ..mch.growth import GrowthInputError, IndicatorResult, Measurement, age_range_gap, assess
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import Operation, OperationCall
from ._growth_records import (
    GESTATIONAL_AGE_AT_BIRTH,
    LOINC,
    MEASUREMENTS,
    GrowthRecords,
    Skipped,
    bundle_records,
    day_of,
    given_measurement,
    read_observations,
    weeks_or_days,
)
from ._patient_record import compartment_resources, parameter_text, patient_of

__all__ = ["OPERATIONS", "MEASUREMENTS"]

DEFINITION = "https://mch-fhir.org/fhir/OperationDefinition/Patient-growth"
UCUM = "http://unitsofmeasure.org"
CLASSIFICATION_SYSTEM = "https://mch-fhir.org/fhir/CodeSystem/growth-classification"
PERCENTILE_CODES = {"bfa": ("59576-9", "Body mass index (BMI) [Percentile] Per age and sex"),
                    "wfl": ("77606-2", "Weight-for-length Per age and sex"),
                    "hcfa": ("8289-1", "Head Occipital-frontal circumference Percentile")}
_STATELESS = ("sex", "birthDate", "gestationalAgeAtBirth", "measurement", "bundle",
              "_format", "_pretty")


def _decimal(value: float, places: int) -> Decimal:
    return Decimal(f"{value:.{places}f}")


def _part(result: IndicatorResult) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if result.measurement.source:
        parts.append({"name": "observation",
                      "valueReference": {"reference": result.measurement.source}})
    parts += [{"name": "indicator", "valueCode": result.indicator},
              {"name": "zScore", "valueDecimal": _decimal(result.z_score, 2)},
              {"name": "percentile", "valueDecimal": _decimal(result.percentile, 1)}]
    if result.classification is not None:
        parts.append({"name": "classification", "valueCoding": {
            "system": CLASSIFICATION_SYSTEM, "code": result.classification.code,
            "display": result.classification.display}})
    parts += [{"name": "flag", "valueCode": flag} for flag in result.flags]
    return {"name": "measurement", "part": parts}


def _skipped(skip: Skipped) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if skip.source:
        parts.append({"name": "observation", "valueReference": {"reference": skip.source}})
    parts.append({"name": "reason", "valueString": skip.reason})
    return {"name": "skipped", "part": parts}


def _answer(results: list[IndicatorResult], skipped: list[Skipped]) -> dict[str, Any]:
    return {"resourceType": "Parameters",
            "parameter": [*map(_part, results), *map(_skipped, skipped)]}


def _assess(sex: Any, birth: date | None, given: list[Measurement], records: GrowthRecords,
            gestation: int | None) -> tuple[list[IndicatorResult], list[Skipped]]:
    """Assess the client's ``given`` measurements (one the standards refuse, a weight in
    cm, is a 400) and the recorded ones (skipped with the standards' reason); a
    measurement no standard's age range covers is skipped with its age and those
    ranges."""
    if sex not in ("male", "female"):
        raise InvalidRequest("Growth standards need the child's sex: male or female")
    if birth is None:
        raise InvalidRequest("Growth standards need the child's birth date")
    try:
        assess(sex, birth, [], gestation)
    except GrowthInputError as error:
        raise InvalidRequest(str(error)) from None
    skipped = list(records.skipped)
    kept = []
    for measurement in [*given, *records.measurements]:
        try:
            assess(sex, birth, [measurement], gestation)
            kept.append(measurement)
        except GrowthInputError as error:
            if any(measurement is g for g in given):
                raise InvalidRequest(str(error)) from None
            skipped.append(Skipped(measurement.source, str(error)))
    results = assess(sex, birth, kept, gestation)
    scored = {id(r.measurement) for r in results}
    skipped += [Skipped(m.source, age_range_gap(sex, birth, m, gestation))
                for m in kept if id(m) not in scored]
    return results, skipped


async def _instance(call: OperationCall) -> tuple[list[IndicatorResult], list[Skipped]]:
    patient = await patient_of(call)
    codes = ",".join(f"{LOINC}|{c}" for c in [*MEASUREMENTS, GESTATIONAL_AGE_AT_BIRTH])
    observations = await compartment_resources(call, "Observation",
                                               [("code", codes), ("_sort", "date")])
    records = read_observations((f"Observation/{o['id']}", o) for o in observations)
    return _assess(patient.get("gender"), day_of(patient.get("birthDate")), [], records,
                   records.gestational_age_days)


def _stateless(call: OperationCall) -> tuple[list[IndicatorResult], list[Skipped]]:
    """The type-level form: a ``Parameters`` body (``sex``, ``birthDate``,
    ``gestationalAgeAtBirth``, ``measurement``s and/or a ``bundle`` of the child's
    records), or the Bundle itself as the body."""
    body = call.body or {"resourceType": "Parameters"}
    if body.get("resourceType") not in ("Parameters", "Bundle"):
        raise InvalidRequest("Patient/$growth takes a Parameters resource or a Bundle")
    bundles = [body] if body.get("resourceType") == "Bundle" else []
    sex, birth, gestation = None, None, None
    given: list[Measurement] = []
    for name, value in call.parameters:
        if name not in _STATELESS:
            raise InvalidRequest(f"Unknown $growth parameter '{name[:60]}'")
        if name == "sex":
            sex = parameter_text(value)
        elif name == "birthDate":
            birth = day_of(parameter_text(value))
        elif name == "gestationalAgeAtBirth":
            gestation = weeks_or_days(value.get("valueQuantity") if isinstance(
                value, dict) else None)
            if gestation is None:
                raise InvalidRequest("gestationalAgeAtBirth is a valueQuantity in wk or d")
        elif name == "measurement":
            given.append(given_measurement(value, len(given)))
        elif name == "bundle":
            resource = value.get("resource") if isinstance(value, dict) else None
            if not isinstance(resource, dict) or resource.get("resourceType") != "Bundle":
                raise InvalidRequest("bundle is a Bundle resource")
            bundles.append(resource)
    if len(bundles) > 1:
        raise InvalidRequest("$growth takes one Bundle of the child's records")
    patient, records = bundle_records(bundles[0]) if bundles else (None, GrowthRecords())
    if patient is not None:
        sex = sex or patient.get("gender")
        birth = birth or day_of(patient.get("birthDate"))
    return _assess(sex, birth, given, records,
                   gestation if gestation is not None else records.gestational_age_days)


async def _store(call: OperationCall, results: list[IndicatorResult]) -> None:
    """The US Core percentile Observations of the results, one per source and indicator."""
    for result in results:
        if result.indicator not in PERCENTILE_CODES or not result.measurement.source:
            continue
        code, display = PERCENTILE_CODES[result.indicator]
        source = result.measurement.source.split("/")[-1]
        rid = f"growth-{result.indicator}-{source}"[:64]
        derived = [{"reference": result.measurement.source}]
        if result.paired_with is not None and result.paired_with.source:
            derived.append({"reference": result.paired_with.source})
        observation = {
            "resourceType": "Observation", "id": rid, "status": "final",
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "vital-signs"}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "subject": {"reference": f"Patient/{call.id}"},
            "effectiveDateTime": result.measurement.date.isoformat(),
            "valueQuantity": {"value": _decimal(result.percentile, 1), "unit": "%",
                              "system": UCUM, "code": "%"},
            "derivedFrom": derived,
        }
        interactions.validate(call.caller, observation)
        await interactions.update(call.caller, observation, rid)


async def growth(call: OperationCall) -> Response:
    media = check_accept(call.request)
    if call.id is None:
        if call.request.method != "POST":
            raise MethodNotAllowed("Patient/$growth takes the child's data in a POSTed "
                                   "Parameters body; Patient/[id]/$growth reads it")
        return fhir_response(_answer(*_stateless(call)), 200, request=call.request,
                             media_type=media)
    store = [parameter_text(v) for n, v in call.parameters if n == "store"]
    unknown = [n for n, _ in call.parameters if n not in ("store", "_format", "_pretty")]
    if unknown:
        raise InvalidRequest(f"Unknown $growth parameter '{unknown[0][:60]}'")
    if store not in ([], ["true"], ["false"]):
        raise InvalidRequest("store is true or false")
    if store == ["true"] and call.request.method != "POST":
        raise MethodNotAllowed("$growth?store=true writes Observations: use POST")
    results, skipped = await _instance(call)
    if store == ["true"]:
        await _store(call, results)
    return fhir_response(_answer(results, skipped), 200, request=call.request,
                         media_type=media)


OPERATIONS = [Operation("growth", growth, type_level=True, instance=True,
                        resource_types=frozenset({"Patient"}), definition=DEFINITION)]
