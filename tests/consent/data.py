"""A small maternal and child record, written for these tests, and
builders for privacy Consents.

Mother ``mum`` (pregnancy, blood pressure, an HIV test and diagnosis, a depression
screen labelled PSY, a prescription, an antenatal visit, her care team), her baby
``kid``, and an unrelated patient ``other``. The midwife works at clinic A (role nurse),
the doctor at hospital B (role doctor), the researcher at clinic A (role researcher);
the counsellor is on mum's care team; the outsider has no role anywhere.
"""

from __future__ import annotations

from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ROLE = "http://terminology.hl7.org/CodeSystem/practitioner-role"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
PSY = {"system": ACT_CODE, "code": "PSY"}


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def observation(oid: str, patient: str, code: str, when: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": _concept(LOINC, code), "subject": {"reference": f"Patient/{patient}"},
            "effectiveDateTime": when, **extra}


def condition(cid: str, code: str, onset: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": cid, "code": _concept(SNOMED, code),
            "subject": {"reference": "Patient/mum"}, "onsetDateTime": onset, **extra}


def _role(rid: str, practitioner: str, organization: str, code: str) -> dict[str, Any]:
    return {"resourceType": "PractitionerRole", "id": rid, "active": True,
            "practitioner": {"reference": f"Practitioner/{practitioner}"},
            "organization": {"reference": f"Organization/{organization}"},
            "code": [_concept(ROLE, code)]}


REFERENCE_DATA = [
    {"resourceType": "Organization", "id": "clinic-a", "name": "Clinic A"},
    {"resourceType": "Organization", "id": "hospital-b", "name": "Hospital B"},
    *({"resourceType": "Practitioner", "id": p} for p in (
        "midwife", "doctor", "researcher", "counsellor", "outsider")),
    _role("pr-midwife", "midwife", "clinic-a", "nurse"),
    _role("pr-doctor", "doctor", "hospital-b", "doctor"),
    _role("pr-researcher", "researcher", "clinic-a", "researcher"),
]

RECORD = [
    {"resourceType": "Patient", "id": "mum", "gender": "female", "birthDate": "1994-06-02"},
    {"resourceType": "Patient", "id": "kid", "birthDate": "2023-09-30"},
    {"resourceType": "Patient", "id": "other", "gender": "male"},
    {"resourceType": "Encounter", "id": "enc-1", "status": "finished",
     "class": {"system": ACT_CODE, "code": "AMB"}, "subject": {"reference": "Patient/mum"},
     "period": {"start": "2023-03-01T09:00:00Z", "end": "2023-03-01T10:00:00Z"}},
    observation("obs-bp", "mum", "85354-9", "2023-03-01T09:30:00Z",
                encounter={"reference": "Encounter/enc-1"},
                performer=[{"reference": "Practitioner/midwife"}]),
    observation("obs-hiv", "mum", "75622-1", "2023-02-01",
                performer=[{"reference": "Practitioner/doctor"}]),
    observation("obs-weight", "mum", "29463-7", "2021-05-01"),
    observation("obs-mh", "mum", "44249-1", "2023-04-01", meta={"security": [PSY]}),
    condition("cond-preg", "77386006", "2023-01-10",
              recorder={"reference": "Practitioner/midwife"}),
    condition("cond-depr", "35489007", "2023-04-01", meta={"security": [PSY]}),
    condition("cond-hiv", "86406008", "2023-02-01",
              recorder={"reference": "Practitioner/doctor"}),
    {"resourceType": "MedicationRequest", "id": "mr-1", "status": "active",
     "intent": "order", "medicationCodeableConcept": _concept(
         "http://www.nlm.nih.gov/research/umls/rxnorm", "315966"),
     "subject": {"reference": "Patient/mum"}, "encounter": {"reference": "Encounter/enc-1"},
     "authoredOn": "2023-03-02", "requester": {"reference": "Practitioner/midwife"}},
    {"resourceType": "CareTeam", "id": "ct-mum", "status": "active",
     "subject": {"reference": "Patient/mum"},
     "participant": [{"member": {"reference": "Practitioner/counsellor"}}]},
    observation("obs-kid", "kid", "29463-7", "2024-01-01"),
    {"resourceType": "Immunization", "id": "imm-kid", "status": "completed",
     "vaccineCode": _concept("http://hl7.org/fhir/sid/cvx", "08"),
     "patient": {"reference": "Patient/kid"}, "occurrenceDateTime": "2024-02-01"},
    observation("obs-other", "other", "85354-9", "2023-03-05"),
]

MUM = frozenset({"Patient/mum", "Encounter/enc-1", "Observation/obs-bp", "Observation/obs-hiv",
                 "Observation/obs-weight", "Observation/obs-mh", "Condition/cond-preg",
                 "Condition/cond-depr", "Condition/cond-hiv", "MedicationRequest/mr-1",
                 "CareTeam/ct-mum"})
KID = frozenset({"Patient/kid", "Observation/obs-kid", "Immunization/imm-kid"})
OTHER = frozenset({"Patient/other", "Observation/obs-other"})
CHECKED = MUM | KID | OTHER
HIV = frozenset({"Observation/obs-hiv", "Condition/cond-hiv"})
MENTAL = frozenset({"Observation/obs-mh", "Condition/cond-depr"})
CONDITIONS = frozenset({"Condition/cond-preg", "Condition/cond-depr", "Condition/cond-hiv"})


def consent(cid: str, provision: dict[str, Any] | None = None, *, policy: str | None = "OPTIN",
            patient: str = "mum", status: str = "active",
            scope: str = "patient-privacy") -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Consent", "id": cid, "status": status,
        "scope": _concept("http://terminology.hl7.org/CodeSystem/consentscope", scope),
        "category": [_concept(LOINC, "59284-0")],
        "patient": {"reference": f"Patient/{patient}"}, "dateTime": "2023-01-01",
    }
    if policy:
        resource["policyRule"] = _concept(ACT_CODE, policy)
    if provision is not None:
        resource["provision"] = provision
    return resource


def actor(reference: str, role: tuple[str, str] = (PARTICIPATION, "IRCP")) -> dict[str, Any]:
    return {"role": _concept(*role), "reference": {"reference": reference}}


def codes(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [_concept(system, code) for system, code in pairs]


HIV_CODES = codes((LOINC, "75622-1"), (SNOMED, "86406008"))
