"""Flags raised by what was recorded during a pregnancy, each with its evidence.

* ``hypertension``: a blood pressure of 140 mmHg systolic or 90 mmHg diastolic or more, or a
  hypertensive Condition active during the pregnancy (WHO 2016 ANC recommendations and ACOG
  Practice Bulletin 222: hypertension in pregnancy is >= 140/90 mmHg).
* ``anaemia``: a haemoglobin below 11 g/dL (110 g/L; WHO, "Haemoglobin concentrations for
  the diagnosis of anaemia", 2011), or an anaemia Condition active during the pregnancy.
* ``no-first-trimester-contact``: past the first trimester (14 0/7 weeks) without an
  antenatal contact in it (WHO 2016: the first contact within the first 12 weeks).
* ``post-term``: 42 0/7 weeks or more (ACOG Committee Opinion 579, "Definition of term
  pregnancy").
* ``suboptimally-dated``: 22 0/7 weeks or more without an ultrasound before them (ACOG
  Committee Opinion 700).
* ``undated``: no estimate of the due date is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .dating import DatingMethod
from .episodes import Pregnancy
from .records import PatientRecords, Visit

__all__ = ["Flag", "pregnancy_flags", "FIRST_TRIMESTER_DAYS", "SECOND_TRIMESTER_DAYS"]

SYSTOLIC_HYPERTENSION = 140.0
DIASTOLIC_HYPERTENSION = 90.0
ANAEMIA_G_PER_DL = 11.0
FIRST_TRIMESTER_DAYS = 14 * 7  # the first trimester ends with 13 6/7 weeks (ACOG CO 700)
SECOND_TRIMESTER_DAYS = 28 * 7
EARLY_ULTRASOUND_DAYS = 22 * 7
POST_TERM_DAYS = 42 * 7


@dataclass(frozen=True)
class Flag:
    code: str
    evidence: tuple[str, ...] = ()


def _measured(pregnancy: Pregnancy, records: PatientRecords, last: date,
              kind: str) -> list[str]:
    """References of the abnormal measurements and active Conditions of ``kind``."""
    first = pregnancy.first_record
    if kind == "hypertension":
        found = [(bp.date, bp.reference) for bp in records.blood_pressures
                 if first <= bp.date <= last
                 and ((bp.systolic or 0) >= SYSTOLIC_HYPERTENSION
                      or (bp.diastolic or 0) >= DIASTOLIC_HYPERTENSION)]
    else:
        found = [(hb.date, hb.reference) for hb in records.haemoglobins
                 if first <= hb.date <= last and hb.grams_per_decilitre < ANAEMIA_G_PER_DL]
    found += [(c.onset, c.reference) for c in records.conditions
              if c.kind == kind and c.active_between(first, last)]
    return [reference for _, reference in sorted(found)]


def _dating_flags(start: date, pregnancy: Pregnancy, visits: list[Visit],
                  gestational_age: int) -> list[Flag]:
    flags = []
    if gestational_age >= FIRST_TRIMESTER_DAYS and not any(
            (v.date - start).days < FIRST_TRIMESTER_DAYS for v in visits):
        flags.append(Flag("no-first-trimester-contact"))
    if gestational_age >= EARLY_ULTRASOUND_DAYS and not any(
            e.method is DatingMethod.ULTRASOUND and (e.recorded - start).days
            < EARLY_ULTRASOUND_DAYS for e in pregnancy.estimates):
        flags.append(Flag("suboptimally-dated"))
    if gestational_age >= POST_TERM_DAYS:
        flags.append(Flag("post-term"))
    return flags


def pregnancy_flags(pregnancy: Pregnancy, records: PatientRecords, visits: list[Visit],
                    last: date, gestational_age: int | None) -> list[Flag]:
    """The flags of ``pregnancy`` from ``records`` up to ``last`` (the summary's date, or
    the end of the pregnancy); ``gestational_age`` in days on ``last``, None if undated."""
    flags = [Flag(kind, tuple(evidence)) for kind in ("hypertension", "anaemia")
             if (evidence := _measured(pregnancy, records, last, kind))]
    if pregnancy.start is None or gestational_age is None:
        return [*flags, Flag("undated")]
    return flags + _dating_flags(pregnancy.start, pregnancy, visits, gestational_age)
