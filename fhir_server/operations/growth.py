"""``Patient/[id]/$growth`` and ``Patient/$growth``: WHO growth z-scores and percentiles.

The instance form reads the child's growth Observations (body weight, length/height, head
and mid-upper arm circumference, BMI: :data:`MEASUREMENTS`) and gestational age at birth
(LOINC 76516-4) through the caller's access policy; the type-level form (POST) takes sex,
birth date, gestational age at birth and measurements in a ``Parameters`` body, for apps
that keep data offline. Computation: :mod:`fhir_server.mch.growth` (WHO 2006/2007,
INTERGROWTH-21st). The answer is a ``Parameters`` with one ``measurement`` part per
measurement and indicator: ``observation`` (valueReference), ``indicator`` (valueCode),
``zScore`` (valueDecimal, two decimals), ``percentile`` (valueDecimal, 0-100, one decimal,
from the unrounded z-score), ``classification`` (valueCoding, absent when normal) and
``flag`` (valueCode, WHO's implausible-value flags, absent when none). A POST of the
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
from ..mch.growth import GrowthInputError, IndicatorResult, Measurement, assess
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import Operation, OperationCall
from ._patient_record import compartment_resources, parameter_text, patient_of

__all__ = ["OPERATIONS", "MEASUREMENTS"]

DEFINITION = "https://mch-fhir.org/fhir/OperationDefinition/Patient-growth"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CLASSIFICATION_SYSTEM = "https://mch-fhir.org/fhir/CodeSystem/growth-classification"
# LOINC code -> (kind, position)
MEASUREMENTS: dict[str, tuple[str, str | None]] = {
    "29463-7": ("weight", None), "3141-9": ("weight", None),
    "8302-2": ("height", None), "8306-3": ("length", "lying"),
    "8308-0": ("height", "standing"), "9843-4": ("head-circumference", None),
    "8287-5": ("head-circumference", None), "39156-5": ("bmi", None),
    "56072-2": ("muac", None),
}
GESTATIONAL_AGE_AT_BIRTH = "76516-4"
PERCENTILE_CODES = {"bfa": ("59576-9", "Body mass index (BMI) [Percentile] Per age and sex"),
                    "wfl": ("77606-2", "Weight-for-length Per age and sex"),
                    "hcfa": ("8289-1", "Head Occipital-frontal circumference Percentile")}
_SKIPPED_STATUS = ("entered-in-error", "cancelled")


def _code(resource: dict[str, Any]) -> str | None:
    for coding in (resource.get("code") or {}).get("coding", []):
        if coding.get("system") == LOINC and coding.get("code") in MEASUREMENTS:
            return coding["code"]
    return None


def _day(text: Any) -> date | None:
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _effective(resource: dict[str, Any]) -> date | None:
    return _day(resource.get("effectiveDateTime")) or _day(
        (resource.get("effectivePeriod") or {}).get("start")) or _day(
        resource.get("effectiveInstant"))


def _unit(quantity: dict[str, Any]) -> str:
    if quantity.get("system") == UCUM and quantity.get("code"):
        return str(quantity["code"])
    return str(quantity.get("code") or quantity.get("unit") or "")


def _measurement(observation: dict[str, Any]) -> Measurement | None:
    code = _code(observation)
    quantity = observation.get("valueQuantity")
    day = _effective(observation)
    if code is None or not isinstance(quantity, dict) or day is None or (
            observation.get("status") in _SKIPPED_STATUS):
        return None
    value = quantity.get("value")
    if not isinstance(value, (int, float, Decimal)) or isinstance(value, bool):
        return None
    kind, position = MEASUREMENTS[code]
    return Measurement(kind, value, _unit(quantity), day, position,
                       f"Observation/{observation['id']}")


def _weeks_or_days(quantity: Any) -> int | None:
    if not isinstance(quantity, dict) or not isinstance(quantity.get("value"), (int, float,
                                                                                Decimal)):
        return None
    unit = _unit(quantity)
    if unit == "d":
        return round(float(quantity["value"]))
    if unit == "wk":
        return round(float(quantity["value"]) * 7)
    return None


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


def _answer(results: list[IndicatorResult], skipped: list[tuple[str, str]]
            ) -> dict[str, Any]:
    parameters = [_part(r) for r in results]
    parameters += [{"name": "skipped", "part": [
        {"name": "observation", "valueReference": {"reference": source}},
        {"name": "reason", "valueString": reason}]} for source, reason in skipped]
    return {"resourceType": "Parameters", "parameter": parameters}


def _assess(sex: Any, birth: date | None, measurements: list[Measurement],
            gestation: int | None, *, strict: bool
            ) -> tuple[list[IndicatorResult], list[tuple[str, str]]]:
    """Assess; a measurement the standards refuse (a weight in cm) is a 400 when the
    client sent it (``strict``), else left out and named."""
    if sex not in ("male", "female"):
        raise InvalidRequest("Growth standards need the child's sex: male or female")
    if birth is None:
        raise InvalidRequest("Growth standards need the child's birth date")
    results: list[IndicatorResult] = []
    skipped: list[tuple[str, str]] = []
    kept = []
    for measurement in measurements:
        try:
            assess(sex, birth, [measurement], gestation)
            kept.append(measurement)
        except GrowthInputError as error:
            if strict:
                raise InvalidRequest(str(error)) from None
            skipped.append((measurement.source or "", str(error)))
    try:
        results = assess(sex, birth, kept, gestation)
    except GrowthInputError as error:
        raise InvalidRequest(str(error)) from None
    return results, skipped


async def _instance(call: OperationCall) -> tuple[list[IndicatorResult],
                                                   list[tuple[str, str]]]:
    patient = await patient_of(call)
    codes = ",".join(f"{LOINC}|{c}" for c in [*MEASUREMENTS, GESTATIONAL_AGE_AT_BIRTH])
    observations = await compartment_resources(call, "Observation",
                                               [("code", codes), ("_sort", "date")])
    gestation = None
    measurements = []
    skipped: list[tuple[str, str]] = []
    for observation in observations:
        if any(c.get("code") == GESTATIONAL_AGE_AT_BIRTH
               for c in (observation.get("code") or {}).get("coding", [])):
            gestation = _weeks_or_days(observation.get("valueQuantity")) or gestation
            continue
        measurement = _measurement(observation)
        if measurement is None:
            skipped.append((f"Observation/{observation['id']}",
                            "no usable value, unit or date"))
        else:
            measurements.append(measurement)
    results, refused = _assess(patient.get("gender"), _day(patient.get("birthDate")),
                               measurements, gestation, strict=False)
    return results, skipped + refused


def _stateless(call: OperationCall) -> tuple[list[IndicatorResult], list[tuple[str, str]]]:
    sex, birth, gestation = None, None, None
    measurements = []
    for name, value in call.parameters:
        if name == "sex":
            sex = parameter_text(value)
        elif name == "birthDate":
            birth = _day(parameter_text(value))
        elif name == "gestationalAgeAtBirth":
            gestation = _weeks_or_days(value.get("valueQuantity") if isinstance(
                value, dict) else None)
            if gestation is None:
                raise InvalidRequest("gestationalAgeAtBirth is a valueQuantity in wk or d")
        elif name == "measurement":
            measurements.append(_given(value, len(measurements)))
        elif name not in ("_format", "_pretty"):
            raise InvalidRequest(f"Unknown $growth parameter '{name[:60]}'")
    return _assess(sex, birth, measurements, gestation, strict=True)


def _given(parameter: Any, index: int) -> Measurement:
    """One ``measurement`` part of the stateless form: ``kind`` (valueCode) or ``code``
    (valueCoding, LOINC), ``value`` (valueQuantity), ``date``, ``position``, ``id``."""
    parts = {p.get("name"): p for p in (parameter.get("part") or [])
             if isinstance(parameter, dict) and isinstance(p, dict)}
    where = f"measurement[{index}]"
    kind = parameter_text(parts["kind"]) if "kind" in parts else None
    position = parameter_text(parts["position"]) if "position" in parts else None
    if kind is None and "code" in parts:
        coding = parts["code"].get("valueCoding") or {}
        kind, position = MEASUREMENTS.get(str(coding.get("code")), (None, position))
    quantity = parts.get("value", {}).get("valueQuantity")
    day = _day(parameter_text(parts["date"])) if "date" in parts else None
    if kind is None or not isinstance(quantity, dict) or day is None or not isinstance(
            quantity.get("value"), (int, float, Decimal)):
        raise InvalidRequest(f"{where} needs kind (or a growth LOINC code), value "
                             "(valueQuantity) and date")
    source = parameter_text(parts["id"]) if "id" in parts else None
    return Measurement(kind, quantity["value"], _unit(quantity), day, position, source)


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
        results, skipped = _stateless(call)
        return fhir_response(_answer(results, skipped), 200, request=call.request,
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
