"""What ``$growth`` reads, as the growth assessment's :class:`Measurement`s: growth
Observations (stored ones, or the entries of a Bundle a client sends) and the stateless
form's ``measurement`` parameters.

An Observation that cannot be a measurement is not an error: it is skipped with its true
reason (its status, no value, no unit, no date with a day, another subject). A
``measurement`` parameter the client wrote is a 400 instead. Each measurement's ``source``
is a reference: ``Observation/[id]`` for a stored Observation or a bare id, the entry's
``fullUrl`` for a Bundle entry that has one (R4 bundle.html#references).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..errors import InvalidRequest
from ..ids import ID_PATTERN
from ..mch.growth import Measurement
from ._patient_record import parameter_text

__all__ = ["MEASUREMENTS", "GESTATIONAL_AGE_AT_BIRTH", "LOINC", "Skipped", "GrowthRecords",
           "read_observations", "bundle_records", "given_measurement", "weeks_or_days",
           "day_of"]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
# LOINC code -> (kind, position)
MEASUREMENTS: dict[str, tuple[str, str | None]] = {
    "29463-7": ("weight", None), "3141-9": ("weight", None),
    "8302-2": ("height", None), "8306-3": ("length", "lying"),
    "8308-0": ("height", "standing"), "9843-4": ("head-circumference", None),
    "8287-5": ("head-circumference", None), "39156-5": ("bmi", None),
    "56072-2": ("muac", None),
}
GESTATIONAL_AGE_AT_BIRTH = "76516-4"
_NOT_MEASURED = ("entered-in-error", "cancelled")
_REFERENCE = re.compile(r"^(Observation/[A-Za-z0-9\-.]{1,64}|https?://\S+|urn:(uuid|oid):\S+)$")


@dataclass(frozen=True)
class Skipped:
    """An Observation left out, and why. ``source`` is None for a measurement the client
    gave without an ``id``."""

    source: str | None
    reason: str


@dataclass
class GrowthRecords:
    measurements: list[Measurement] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    gestational_age_days: int | None = None


class _Unusable(Exception):
    """An Observation that is not a usable measurement; the message says why."""


def day_of(text: Any) -> date | None:
    """The day of a FHIR date/dateTime with one (``2024-03`` has none)."""
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _loinc_code(resource: dict[str, Any], codes: Iterable[str]) -> str | None:
    wanted = set(codes)
    for coding in (resource.get("code") or {}).get("coding", []):
        if isinstance(coding, dict) and coding.get("system") == LOINC and (
                coding.get("code") in wanted):
            return str(coding["code"])
    return None


def _unit(quantity: dict[str, Any]) -> str:
    if quantity.get("system") == UCUM and quantity.get("code"):
        return str(quantity["code"])
    return str(quantity.get("code") or quantity.get("unit") or "")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def weeks_or_days(quantity: Any) -> int | None:
    """A gestational age in ``wk`` or ``d`` as whole days."""
    if not isinstance(quantity, dict) or not _number(quantity.get("value")):
        return None
    factor = {"d": 1, "wk": 7}.get(_unit(quantity))
    return None if factor is None else round(float(quantity["value"]) * factor)


def _effective(observation: dict[str, Any]) -> date:
    given = [observation.get("effectiveDateTime"),
             (observation.get("effectivePeriod") or {}).get("start"),
             observation.get("effectiveInstant")]
    for text in given:
        if (day := day_of(text)) is not None:
            return day
    partial = next((t for t in given if t), None)
    if partial is not None:
        raise _Unusable(f"its effective date '{str(partial)[:40]}' has no day")
    raise _Unusable("no effective date (effectiveDateTime, effectivePeriod.start or "
                    "effectiveInstant)")


def _measurement(observation: dict[str, Any], code: str, source: str) -> Measurement:
    status = observation.get("status")
    if status in _NOT_MEASURED:
        raise _Unusable(f"its status is {status}")
    quantity = observation.get("valueQuantity")
    if not isinstance(quantity, dict):
        absent = next((c.get("code") for c in (observation.get("dataAbsentReason") or {})
                       .get("coding", []) if isinstance(c, dict) and c.get("code")), None)
        raise _Unusable(f"no value (dataAbsentReason {absent})" if absent else
                        "no valueQuantity")
    if not _number(quantity.get("value")):
        raise _Unusable("its valueQuantity has no numeric value")
    unit = _unit(quantity)
    if not unit:
        raise _Unusable("its valueQuantity has no unit")
    day = _effective(observation)
    kind, position = MEASUREMENTS[code]
    return Measurement(kind, quantity["value"], unit, day, position, source)


def read_observations(observations: Iterable[tuple[str, dict[str, Any]]]) -> GrowthRecords:
    """The measurements, skips and gestational age at birth (LOINC 76516-4, the last
    usable one) of growth Observations, each given with its reference."""
    records = GrowthRecords()
    for source, observation in observations:
        if _loinc_code(observation, [GESTATIONAL_AGE_AT_BIRTH]) is not None:
            if observation.get("status") not in _NOT_MEASURED:
                records.gestational_age_days = weeks_or_days(
                    observation.get("valueQuantity")) or records.gestational_age_days
            continue
        code = _loinc_code(observation, MEASUREMENTS)
        if code is None:
            continue
        try:
            records.measurements.append(_measurement(observation, code, source))
        except _Unusable as reason:
            records.skipped.append(Skipped(source, str(reason)))
    return records


def _subject_references(patient: dict[str, Any], full_url: Any) -> set[str]:
    names = {f"Patient/{patient.get('id')}"} if patient.get("id") else set()
    return names | ({full_url} if isinstance(full_url, str) and full_url else set())


def bundle_records(bundle: dict[str, Any]) -> tuple[dict[str, Any] | None, GrowthRecords]:
    """The child (the Bundle's one Patient, if any) and the records of its growth
    Observations, each named by its entry's ``fullUrl`` or else ``Observation/[id]``.
    An Observation about someone else than that Patient is skipped."""
    given = bundle.get("entry")
    entries = [(index, e) for index, e in enumerate(given if isinstance(given, list) else [])
               if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    patients = [e for _, e in entries if e["resource"].get("resourceType") == "Patient"]
    if len(patients) > 1:
        raise InvalidRequest(f"The Bundle holds {len(patients)} Patients: $growth takes one "
                             "child's records")
    patient = patients[0]["resource"] if patients else None
    child = _subject_references(patient, patients[0].get("fullUrl")) if patient else set()
    observations: list[tuple[str, dict[str, Any]]] = []
    foreign: list[Skipped] = []
    for index, entry in entries:
        resource = entry["resource"]
        if resource.get("resourceType") != "Observation" or _loinc_code(
                resource, [*MEASUREMENTS, GESTATIONAL_AGE_AT_BIRTH]) is None:
            continue
        source = entry.get("fullUrl") or (
            f"Observation/{resource['id']}" if isinstance(resource.get("id"), str) else None)
        if not isinstance(source, str) or not source:
            raise InvalidRequest(f"Bundle.entry[{index}] needs a fullUrl or an id: the "
                                 "answer names each Observation")
        subject = (resource.get("subject") or {}).get("reference")
        if child and isinstance(subject, str) and subject not in child and not any(
                subject.endswith(f"/{name}") for name in child if name.startswith("Patient/")):
            foreign.append(Skipped(source, f"its subject {subject[:80]} is not the Bundle's "
                                           "Patient"))
            continue
        observations.append((source, resource))
    records = read_observations(observations)
    records.skipped[:0] = foreign
    return patient, records


def _observation_reference(text: str, where: str) -> str:
    """A stateless measurement's ``id`` as a reference: a bare id is an Observation's."""
    if ID_PATTERN.match(text):
        return f"Observation/{text}"
    if _REFERENCE.match(text):
        return text
    raise InvalidRequest(f"{where}.id is an Observation id or reference (Observation/[id], "
                         f"an absolute URL or urn:uuid:), not '{text[:60]}'")


def given_measurement(parameter: Any, index: int) -> Measurement:
    """One ``measurement`` parameter of the stateless form: ``kind`` (valueCode) or
    ``code`` (valueCoding, LOINC), ``value`` (valueQuantity), ``date``, ``position``,
    ``id``. Anything missing is a 400."""
    parts = {p.get("name"): p for p in (parameter.get("part") or [])
             if isinstance(parameter, dict) and isinstance(p, dict)}
    where = f"measurement[{index}]"
    kind = parameter_text(parts["kind"]) if "kind" in parts else None
    position = parameter_text(parts["position"]) if "position" in parts else None
    if kind is None and "code" in parts:
        coding = parts["code"].get("valueCoding") or {}
        kind, position = MEASUREMENTS.get(str(coding.get("code")), (None, position))
    quantity = parts.get("value", {}).get("valueQuantity")
    day = day_of(parameter_text(parts["date"])) if "date" in parts else None
    if kind is None or not isinstance(quantity, dict) or day is None or not _number(
            quantity.get("value")):
        raise InvalidRequest(f"{where} needs kind (or a growth LOINC code), value "
                             "(valueQuantity) and date")
    source = (_observation_reference(parameter_text(parts["id"]), where) if "id" in parts
              else None)
    return Measurement(kind, quantity["value"], _unit(quantity), day, position, source)
