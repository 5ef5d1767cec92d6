"""The codes the pregnancy summary reads, as data (docs/maternal-child.md, "Pregnancy summary").

Each table maps a ``(system, code)`` pair, or for ICD-10 a code prefix, to what it means for
the summary. LOINC codes follow the IPS pregnancy EDD value set
(http://hl7.org/fhir/uv/ips/ValueSet/edd-method-uv-ips) and the project's ``edd-method`` and
``gestational-age-method`` value sets; outcome codes follow the US Public Health pregnancy
outcome observation (LOINC 63893-2, http://hl7.org/fhir/us/ph-library/StructureDefinition/
us-ph-pregnancy-outcome-observation); WHO SMART ANC codes come from its ``anc-custom-codes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .dating import DatingMethod

__all__ = [
    "LOINC", "SNOMED", "ICD10", "WHO_ANC", "Code", "coded", "first_match",
    "LAST_MENSTRUAL_PERIOD", "DELIVERY_DATE_METHODS", "GESTATIONAL_AGE_METHODS",
    "PREGNANCY_STATUS", "PREGNANT", "PREGNANCY_CONDITIONS", "PRENATAL_VISITS",
    "INITIAL_PRENATAL_VISITS", "BLOOD_PRESSURE_PANELS", "SYSTOLIC", "DIASTOLIC",
    "HAEMOGLOBIN", "HYPERTENSION_CONDITIONS", "ANAEMIA_CONDITIONS", "PREGNANCY_OUTCOME",
    "DELIVERY_DATE", "OUTCOME_CONDITIONS", "OUTCOME_PROCEDURES", "observation_code_tokens",
    "pregnancy_history_codes",
]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
WHO_ANC = "http://fhir.org/guides/who/anc-cds/CodeSystem/anc-custom-codes"

Code = tuple[str, str]

LAST_MENSTRUAL_PERIOD: frozenset[Code] = frozenset({(LOINC, "8665-2")})

# Observation code of an estimated delivery date -> the method it names.
DELIVERY_DATE_METHODS: Mapping[Code, DatingMethod] = {
    (LOINC, "11779-6"): DatingMethod.LAST_MENSTRUAL_PERIOD,
    (LOINC, "11780-4"): DatingMethod.OVULATION,
    (LOINC, "53692-0"): DatingMethod.CONCEPTION,
    (LOINC, "11781-2"): DatingMethod.ULTRASOUND,
    (LOINC, "11778-8"): DatingMethod.CLINICAL,
}

# Observation code of a gestational age -> the method it names.
GESTATIONAL_AGE_METHODS: Mapping[Code, DatingMethod] = {
    (LOINC, "11885-1"): DatingMethod.LAST_MENSTRUAL_PERIOD,
    (LOINC, "11888-5"): DatingMethod.ULTRASOUND,
    (LOINC, "18185-9"): DatingMethod.CLINICAL,
    (LOINC, "49051-6"): DatingMethod.CLINICAL,
    (LOINC, "11884-4"): DatingMethod.CLINICAL,
}

PREGNANCY_STATUS: frozenset[Code] = frozenset({(LOINC, "82810-3")})
PREGNANT: frozenset[Code] = frozenset({(SNOMED, "77386006")})

PREGNANCY_CONDITIONS: frozenset[Code] = frozenset({
    (SNOMED, "77386006"),  # Pregnant / Pregnancy
    (SNOMED, "72892002"),  # Normal pregnancy
    (SNOMED, "47200007"),  # High risk pregnancy
    (ICD10, "Z33"), (ICD10, "Z34"),
})

# Encounter.type or reasonCode of an antenatal care contact; the initial ones also show
# that a pregnancy exists.
INITIAL_PRENATAL_VISITS: frozenset[Code] = frozenset({
    (SNOMED, "424441002"),  # Prenatal initial visit
    (WHO_ANC, "ANC.B5.DE2"),  # First antenatal care contact
})
PRENATAL_VISITS: frozenset[Code] = INITIAL_PRENATAL_VISITS | {
    (SNOMED, "424619006"),  # Prenatal visit
    (SNOMED, "118189007"),  # Prenatal finding (WHO SMART ANC's contact reason)
    (WHO_ANC, "ANC.B5.DE3"),  # Scheduled antenatal care contact
    (WHO_ANC, "ANC.B5.DE4"),  # Specific complaint related to antenatal care
}

BLOOD_PRESSURE_PANELS: frozenset[Code] = frozenset({
    (LOINC, "85354-9"),  # Blood pressure panel with all children optional
    (LOINC, "55284-4"),  # Blood pressure systolic and diastolic (Synthea)
    (LOINC, "85353-1"),  # Vital signs panel (mch-maternal-vital-signs)
})
SYSTOLIC: frozenset[Code] = frozenset({(LOINC, "8480-6")})
DIASTOLIC: frozenset[Code] = frozenset({(LOINC, "8462-4")})

HAEMOGLOBIN: frozenset[Code] = frozenset({
    (LOINC, "718-7"),  # Hemoglobin [Mass/volume] in Blood
    (LOINC, "59260-0"),  # Hemoglobin [Moles/volume] in Blood
})

HYPERTENSION_CONDITIONS: frozenset[Code] = frozenset({
    (SNOMED, "38341003"),  # Hypertensive disorder
    (SNOMED, "59621000"),  # Essential hypertension
    (SNOMED, "48194001"),  # Pregnancy-induced hypertension
    (SNOMED, "398254007"),  # Pre-eclampsia
    (SNOMED, "15938005"),  # Eclampsia
    (ICD10, "I10"), (ICD10, "I11"), (ICD10, "I12"), (ICD10, "I13"), (ICD10, "I15"),
    (ICD10, "O10"), (ICD10, "O11"), (ICD10, "O13"), (ICD10, "O14"), (ICD10, "O15"),
    (ICD10, "O16"),
})
ANAEMIA_CONDITIONS: frozenset[Code] = frozenset({
    (SNOMED, "271737000"),  # Anemia
    (SNOMED, "87522002"),  # Iron deficiency anemia
    (ICD10, "O99.0"), *((ICD10, f"D{n}") for n in range(50, 65)),
})

PREGNANCY_OUTCOME: frozenset[Code] = frozenset({(LOINC, "63893-2")})
DELIVERY_DATE: frozenset[Code] = frozenset({(LOINC, "93857-1")})
OUTCOME_CONDITIONS: frozenset[Code] = frozenset({
    (SNOMED, "19169002"),  # Miscarriage in first trimester
    (SNOMED, "17369002"),  # Miscarriage (spontaneous abortion)
    (SNOMED, "237364002"),  # Stillbirth
    (SNOMED, "34801009"),  # Ectopic pregnancy
    (SNOMED, "44782008"),  # Molar pregnancy
    (SNOMED, "281050002"),  # Livebirth
    *((ICD10, f"O0{n}") for n in range(9)),  # pregnancy with abortive outcome
    (ICD10, "Z37"),  # outcome of delivery
})
OUTCOME_PROCEDURES: frozenset[Code] = frozenset({
    (SNOMED, "236973005"),  # Delivery procedure
    (SNOMED, "177184002"),  # Normal delivery procedure
    (SNOMED, "11466000"),  # Cesarean section
    (SNOMED, "714812005"),  # Induced termination of pregnancy
})


def _matches(system: str, code: str, codes: Iterable[Code]) -> bool:
    if system == ICD10:
        return any(s == ICD10 and code.startswith(prefix) for s, prefix in codes)
    return (system, code) in codes


def first_match(concepts: Any, codes: Iterable[Code]) -> dict[str, Any] | None:
    """The first Coding of a CodeableConcept (or a list of them) that is in ``codes``."""
    for concept in concepts if isinstance(concepts, list) else [concepts]:
        if not isinstance(concept, dict):
            continue
        for coding in concept.get("coding") or []:
            system, code = coding.get("system"), coding.get("code")
            if isinstance(system, str) and isinstance(code, str) and _matches(system, code,
                                                                              codes):
                return coding
    return None


def coded(concepts: Any, codes: Iterable[Code]) -> bool:
    """Whether a CodeableConcept (or a list of them) carries a code of ``codes``."""
    return first_match(concepts, codes) is not None


def observation_code_tokens() -> list[str]:
    """Every Observation code the summary reads, as ``system|code`` search tokens: a caller
    may restrict its Observation search with ``code=`` these (nothing else is read)."""
    codes = (LAST_MENSTRUAL_PERIOD | set(DELIVERY_DATE_METHODS) | set(GESTATIONAL_AGE_METHODS)
             | PREGNANCY_STATUS | BLOOD_PRESSURE_PANELS | SYSTOLIC | DIASTOLIC | HAEMOGLOBIN
             | PREGNANCY_OUTCOME | DELIVERY_DATE)
    return sorted(f"{system}|{code}" for system, code in codes)


def pregnancy_history_codes() -> frozenset[str]:
    """The LOINC codes of the Observations that record the pregnancy itself (status, LMP,
    due date and gestational age by any method, outcome, delivery date), as opposed to the
    vital signs and laboratory results the summary also reads: the entries of an IPS
    History of Pregnancy section. They include the codes the project's MCH pregnancy
    profiles fix or bind (mch-pregnancy-status, mch-estimated-due-date,
    mch-gestational-age, mch-pregnancy-outcome)."""
    history = (LAST_MENSTRUAL_PERIOD | set(DELIVERY_DATE_METHODS) | set(GESTATIONAL_AGE_METHODS)
               | PREGNANCY_STATUS | PREGNANCY_OUTCOME | DELIVERY_DATE)
    return frozenset(code for system, code in history if system == LOINC)
