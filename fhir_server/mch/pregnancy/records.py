"""What the pregnancy summary reads from a patient's FHIR resources, placed in time.

Each resource is reduced to a small dated fact (an estimate of the due date, a prenatal
contact, a blood pressure, ...). A resource's date is its calendar date as written (the
local date of a dateTime, never shifted to UTC); partial dates (``2024-03``) are too vague
for dating and are skipped. An Observation or Condition without its own date takes the
start of its Encounter. Resources marked entered-in-error, cancelled, refuted or not done,
and resources without an id, are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from . import codes
from .dating import PREGNANCY_DAYS, DatingEstimate, DatingMethod

__all__ = ["Dated", "Visit", "BloodPressure", "Haemoglobin", "ConditionSpan", "Outcome",
           "PatientRecords", "calendar_date", "HAEMOGLOBIN_G_PER_DL"]

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_IGNORED_OBSERVATION = {"registered", "cancelled", "entered-in-error"}
_IGNORED_ENCOUNTER = {"planned", "cancelled", "entered-in-error"}
_IGNORED_VERIFICATION = {"refuted", "entered-in-error"}

# Factor from each accepted unit to g/dL. mmol/L counts haemoglobin monomers (Hb(Fe),
# 16 114.5 g/mol: 1 mmol/L = 1.6114 g/dL), the convention of laboratories reporting mmol/L.
HAEMOGLOBIN_G_PER_DL = {"g/dL": 1.0, "g/L": 0.1, "mg/dL": 0.001, "g/100mL": 1.0,
                        "mmol/L": 1.61145}
_WEEKS = {"wk": 7, "d": 1}
_MM_HG = {"mm[Hg]", "mmHg"}


def calendar_date(value: Any) -> date | None:
    """The calendar date of a FHIR date/dateTime/instant, or None unless it has a day."""
    match = _DATE.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


@dataclass(frozen=True)
class Dated:
    """A record of a pregnancy at a date (pregnancy Condition, status, first contact)."""

    date: date
    reference: str


@dataclass(frozen=True)
class Visit:
    """A prenatal contact (an Encounter typed as antenatal care)."""

    date: date
    reference: str
    initial: bool


@dataclass(frozen=True)
class BloodPressure:
    date: date
    reference: str
    systolic: float | None
    diastolic: float | None


@dataclass(frozen=True)
class Haemoglobin:
    date: date
    reference: str
    grams_per_decilitre: float


@dataclass(frozen=True)
class ConditionSpan:
    """A hypertension or anaemia Condition: ``kind`` is ``hypertension`` or ``anaemia``."""

    kind: str
    onset: date
    abatement: date | None
    reference: str

    def active_between(self, first: date, last: date) -> bool:
        return self.onset <= last and (self.abatement is None or self.abatement >= first)


@dataclass(frozen=True)
class Outcome:
    """A recorded end of a pregnancy: ``coding`` says what it was (the value of an
    outcome Observation, the code of a Condition or Procedure)."""

    date: date
    reference: str
    coding: dict[str, Any]


@dataclass(frozen=True)
class PatientRecords:
    """Everything the summary uses, from one patient's resources."""

    estimates: tuple[DatingEstimate, ...] = ()
    pregnancy_records: tuple[Dated, ...] = ()
    visits: tuple[Visit, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    blood_pressures: tuple[BloodPressure, ...] = ()
    haemoglobins: tuple[Haemoglobin, ...] = ()
    conditions: tuple[ConditionSpan, ...] = ()

    @classmethod
    def from_resources(cls, resources: Iterable[dict[str, Any]]) -> PatientRecords:
        resources = [r for r in resources if isinstance(r, dict) and isinstance(r.get("id"), str)]
        encounter_dates = {
            f"Encounter/{r['id']}": calendar_date((r.get("period") or {}).get("start"))
            for r in resources if r.get("resourceType") == "Encounter"}
        reader = _Reader(encounter_dates)
        for resource in resources:
            reader.read(resource)
        return cls(**{f.name: tuple(getattr(reader, f.name)) for f in fields(cls)})

    def until(self, as_of: date) -> PatientRecords:
        """Only what was known on ``as_of``: records dated on or before it (an estimate by
        the day it was made); a Condition that abated later is still active then."""
        def known(items: tuple[Any, ...], when: str) -> tuple[Any, ...]:
            return tuple(item for item in items if getattr(item, when) <= as_of)
        conditions = tuple(
            c if c.abatement is None or c.abatement <= as_of else replace(c, abatement=None)
            for c in known(self.conditions, "onset"))
        return PatientRecords(
            estimates=known(self.estimates, "recorded"),
            pregnancy_records=known(self.pregnancy_records, "date"),
            visits=known(self.visits, "date"), outcomes=known(self.outcomes, "date"),
            blood_pressures=known(self.blood_pressures, "date"),
            haemoglobins=known(self.haemoglobins, "date"), conditions=conditions)


def _quantity(value: Any) -> tuple[float, str] | None:
    """(value, unit code) of a Quantity with a numeric value and a code or unit."""
    if not isinstance(value, dict) or isinstance(value.get("value"), bool):
        return None
    number, unit = value.get("value"), value.get("code") or value.get("unit")
    if not isinstance(number, int | float | Decimal) or not isinstance(unit, str):
        return None
    return float(number), unit


class _Reader:
    """Accumulates the facts of each resource into lists named like PatientRecords."""

    def __init__(self, encounter_dates: dict[str, date | None]) -> None:
        self.encounter_dates = encounter_dates
        for f in fields(PatientRecords):
            setattr(self, f.name, [])

    def read(self, resource: dict[str, Any]) -> None:
        handler = getattr(self, f"_read_{str(resource.get('resourceType')).lower()}", None)
        if handler is not None:
            handler(resource, f"{resource['resourceType']}/{resource['id']}")

    def _encounter_date(self, resource: dict[str, Any]) -> date | None:
        reference = (resource.get("encounter") or {}).get("reference")
        return self.encounter_dates.get(reference) if isinstance(reference, str) else None

    # Observations

    def _observation_date(self, observation: dict[str, Any]) -> date | None:
        return (calendar_date(observation.get("effectiveDateTime"))
                or calendar_date((observation.get("effectivePeriod") or {}).get("start"))
                or calendar_date(observation.get("effectiveInstant"))
                or self._encounter_date(observation)
                or calendar_date(observation.get("issued")))

    def _read_observation(self, observation: dict[str, Any], reference: str) -> None:
        if observation.get("status") in _IGNORED_OBSERVATION:
            return
        code = observation.get("code")
        if codes.coded(code, codes.DELIVERY_DATE):
            delivered = (calendar_date(observation.get("valueDateTime"))
                         or self._observation_date(observation))
            if delivered is not None:
                self.outcomes.append(Outcome(delivered, reference,
                                             codes.first_match(code, codes.DELIVERY_DATE) or {}))
            return
        when = self._observation_date(observation)
        if when is None:
            return
        if codes.coded(code, codes.LAST_MENSTRUAL_PERIOD):
            self._estimate_from_date(observation, when, reference)
        elif (coding := codes.first_match(code, codes.DELIVERY_DATE_METHODS)) is not None:
            self._estimate_from_due_date(observation, coding, when, reference)
        elif (coding := codes.first_match(code, codes.GESTATIONAL_AGE_METHODS)) is not None:
            self._estimate_from_gestational_age(observation, coding, when, reference)
        elif codes.coded(code, codes.PREGNANCY_STATUS):
            if (observation.get("valueBoolean") is True
                    or codes.coded(observation.get("valueCodeableConcept"), codes.PREGNANT)):
                self.pregnancy_records.append(Dated(when, reference))
        elif codes.coded(code, codes.PREGNANCY_OUTCOME):
            value = _codings(observation)
            snomed = [c for c in value if c.get("system") == codes.SNOMED]
            if value:
                self.outcomes.append(Outcome(when, reference, (snomed or value)[0]))
        elif codes.coded(code, codes.HAEMOGLOBIN):
            self._haemoglobin(observation, when, reference)
        else:
            self._blood_pressure(observation, code, when, reference)

    def _estimate_from_date(self, observation: dict[str, Any], when: date,
                            reference: str) -> None:
        menstrual_period = calendar_date(observation.get("valueDateTime"))
        if menstrual_period is not None:
            self.estimates.append(DatingEstimate(DatingMethod.LAST_MENSTRUAL_PERIOD, when,
                                                 menstrual_period, reference))

    def _estimate_from_due_date(self, observation: dict[str, Any], coding: dict[str, Any],
                                when: date, reference: str) -> None:
        due = calendar_date(observation.get("valueDateTime"))
        if due is not None:
            method = codes.DELIVERY_DATE_METHODS[(coding["system"], coding["code"])]
            self.estimates.append(DatingEstimate(method, when, due - timedelta(days=PREGNANCY_DAYS),
                                                 reference))

    def _estimate_from_gestational_age(self, observation: dict[str, Any],
                                       coding: dict[str, Any], when: date,
                                       reference: str) -> None:
        quantity = _quantity(observation.get("valueQuantity"))
        if quantity is None or quantity[1] not in _WEEKS:
            return
        days = round(quantity[0] * _WEEKS[quantity[1]])
        method = codes.GESTATIONAL_AGE_METHODS[(coding["system"], coding["code"])]
        self.estimates.append(DatingEstimate(method, when, when - timedelta(days=days),
                                             reference))

    def _haemoglobin(self, observation: dict[str, Any], when: date, reference: str) -> None:
        quantity = _quantity(observation.get("valueQuantity"))
        if quantity is not None and quantity[1] in HAEMOGLOBIN_G_PER_DL:
            grams = quantity[0] * HAEMOGLOBIN_G_PER_DL[quantity[1]]
            self.haemoglobins.append(Haemoglobin(when, reference, grams))

    def _blood_pressure(self, observation: dict[str, Any], code: Any, when: date,
                        reference: str) -> None:
        """A panel with systolic/diastolic components, or a lone systolic or diastolic."""
        readings = [(code, observation.get("valueQuantity"))]
        if codes.coded(code, codes.BLOOD_PRESSURE_PANELS):
            readings = [(c.get("code"), c.get("valueQuantity"))
                        for c in observation.get("component") or [] if isinstance(c, dict)]
        systolic = diastolic = None
        for concept, value in readings:
            quantity = _quantity(value)
            if quantity is None or quantity[1] not in _MM_HG:
                continue
            if codes.coded(concept, codes.SYSTOLIC):
                systolic = quantity[0]
            elif codes.coded(concept, codes.DIASTOLIC):
                diastolic = quantity[0]
        if systolic is not None or diastolic is not None:
            self.blood_pressures.append(BloodPressure(when, reference, systolic, diastolic))

    # Encounters, Conditions, Procedures

    def _read_encounter(self, encounter: dict[str, Any], reference: str) -> None:
        when = self.encounter_dates[reference]
        concepts = [*(encounter.get("type") or []), *(encounter.get("reasonCode") or [])]
        if (when is None or encounter.get("status") in _IGNORED_ENCOUNTER
                or not codes.coded(concepts, codes.PRENATAL_VISITS)):
            return
        initial = codes.coded(concepts, codes.INITIAL_PRENATAL_VISITS)
        self.visits.append(Visit(when, reference, initial))
        if initial:
            self.pregnancy_records.append(Dated(when, reference))

    def _read_condition(self, condition: dict[str, Any], reference: str) -> None:
        verification = codes.first_match(condition.get("verificationStatus"), [
            ("http://terminology.hl7.org/CodeSystem/condition-ver-status", status)
            for status in _IGNORED_VERIFICATION])
        onset = (calendar_date(condition.get("onsetDateTime"))
                 or calendar_date((condition.get("onsetPeriod") or {}).get("start"))
                 or calendar_date(condition.get("recordedDate"))
                 or self._encounter_date(condition))
        if verification is not None or onset is None:
            return
        code = condition.get("code")
        if (coding := codes.first_match(code, codes.OUTCOME_CONDITIONS)) is not None:
            self.outcomes.append(Outcome(onset, reference, coding))
        elif codes.coded(code, codes.PREGNANCY_CONDITIONS):
            self.pregnancy_records.append(Dated(onset, reference))
        for kind, kind_codes in (("hypertension", codes.HYPERTENSION_CONDITIONS),
                                 ("anaemia", codes.ANAEMIA_CONDITIONS)):
            if codes.coded(code, kind_codes):
                abatement = (calendar_date(condition.get("abatementDateTime"))
                             or calendar_date((condition.get("abatementPeriod") or {})
                                              .get("end")))
                self.conditions.append(ConditionSpan(kind, onset, abatement, reference))

    def _read_procedure(self, procedure: dict[str, Any], reference: str) -> None:
        period = procedure.get("performedPeriod") or {}
        when = (calendar_date(procedure.get("performedDateTime"))
                or calendar_date(period.get("end")) or calendar_date(period.get("start")))
        coding = codes.first_match(procedure.get("code"), codes.OUTCOME_PROCEDURES)
        if procedure.get("status") == "completed" and when is not None and coding is not None:
            self.outcomes.append(Outcome(when, reference, coding))


def _codings(observation: dict[str, Any]) -> list[dict[str, Any]]:
    value = observation.get("valueCodeableConcept")
    return [c for c in (value or {}).get("coding") or [] if isinstance(c, dict)]
