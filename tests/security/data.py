"""The leak suite's record, written for these tests: four patients in four Consent
situations, a fifth patient for the "other patient" actor, and the people who ask.

Situations (each a patient with the same kinds of resources, so every path can be asked
about each):

* ``den``: a Consent denies Organization ``org-other`` (its practitioners see nothing of
  her record);
* ``hiv``: a Consent denies the HIV codes (LOINC 75622-1, SNOMED 86406008) to everyone;
* ``psy``: a Consent masks what carries the mental-health label PSY (shown without
  content);
* ``free``: no Consent (everything is shared: the positive control).

Every situation patient X has: ``Patient/X``, ``Encounter/X-enc``, three Observations
(``X-vital`` vital signs, ``X-hiv`` an HIV test with category laboratory, ``X-psy`` a
depression screen labelled PSY whose ``valueString`` is a secret), a ``Condition``
``X-hivdx`` (HIV disease), ``Immunization/X-imm``, ``RelatedPerson/X-rp`` (her
delegate), ``Binary/X-bin`` whose ``securityContext`` is Patient/X, and ``Group/X-grp``
naming X *and* ``bea``. ``bea`` has a Patient and two Observations and no Consent.

Secrets are strings that only ever occur inside one resource's content: a response that
contains one has disclosed that content.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBLIGATION = "http://terminology.hl7.org/CodeSystem/v3-ObligationPolicy"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ROLE = "http://terminology.hl7.org/CodeSystem/practitioner-role"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PSY = {"system": ACT_CODE, "code": "PSY"}
MASK = {"system": OBLIGATION, "code": "MASK"}
HIV_TEST = "75622-1"
HIV_DISEASE = "86406008"
HIV_CODES = [{"coding": [{"system": LOINC, "code": HIV_TEST}]},
             {"coding": [{"system": SNOMED, "code": HIV_DISEASE}]}]

SITUATIONS = ("den", "hiv", "psy", "free")
OTHER_PATIENT = "bea"
PATIENTS = (*SITUATIONS, OTHER_PATIENT)
# What each patient's Consent does (the expectations in expect.py read this table).
CONSENT_RULE = {"den": "deny-organization", "hiv": "deny-code", "psy": "mask-label",
                "free": None, "bea": None}
DENIED_ORGANIZATION = "org-other"


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _category(code: str) -> list[dict[str, Any]]:
    return [_concept(CATEGORY, code)]


def secret(key: str) -> str:
    """The secret string inside the content of resource ``key`` (``Type/id``)."""
    return "secret-" + key.replace("/", "-")


def observation(oid: str, patient: str, category: str, code: str,
                **extra: Any) -> dict[str, Any]:
    words = secret(f"Observation/{oid}")
    return {"resourceType": "Observation", "id": oid,
            "text": {"status": "generated",
                     "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{words}</div>'},
            "status": "final", "category": _category(category), "code": _concept(LOINC, code),
            "subject": {"reference": f"Patient/{patient}"},
            "effectiveDateTime": "2023-03-01", "valueString": secret(f"Observation/{oid}"),
            **extra}


def binary_content(patient: str) -> bytes:
    return secret(f"Binary/{patient}-bin").encode()


def patient_record(p: str) -> list[dict[str, Any]]:
    """The resources of one situation patient."""
    encounter = {"reference": f"Encounter/{p}-enc"}
    return [
        {"resourceType": "Patient", "id": p, "gender": "female", "birthDate": "1994-06-02",
         "name": [{"family": f"Family{p.capitalize()}", "given": [secret(f"Patient/{p}")]}]},
        {"resourceType": "Encounter", "id": f"{p}-enc", "status": "finished",
         "class": {"system": ACT_CODE, "code": "AMB"}, "subject": {"reference": f"Patient/{p}"},
         "reasonCode": [{"text": secret(f"Encounter/{p}-enc")}]},
        observation(f"{p}-vital", p, "vital-signs", "85354-9", encounter=encounter,
                    performer=[{"reference": "Practitioner/doc"}]),
        observation(f"{p}-hiv", p, "laboratory", HIV_TEST, encounter=encounter,
                    performer=[{"reference": "Practitioner/doc"}]),
        observation(f"{p}-psy", p, "survey", "44249-1", encounter=encounter,
                    meta={"security": [PSY]}),
        {"resourceType": "Condition", "id": f"{p}-hivdx", "code": _concept(SNOMED, HIV_DISEASE),
         "subject": {"reference": f"Patient/{p}"}, "onsetDateTime": "2023-02-01",
         "note": [{"text": secret(f"Condition/{p}-hivdx")}]},
        {"resourceType": "Immunization", "id": f"{p}-imm", "status": "completed",
         "vaccineCode": _concept("http://hl7.org/fhir/sid/cvx", "08"),
         "patient": {"reference": f"Patient/{p}"}, "occurrenceDateTime": "2024-02-01",
         "lotNumber": secret(f"Immunization/{p}-imm")},
        {"resourceType": "RelatedPerson", "id": f"{p}-rp", "active": True,
         "patient": {"reference": f"Patient/{p}"},
         "name": [{"family": secret(f"RelatedPerson/{p}-rp")}]},
        {"resourceType": "Group", "id": f"{p}-grp", "type": "person", "actual": True,
         "name": secret(f"Group/{p}-grp"),
         "member": [{"entity": {"reference": f"Patient/{p}"}},
                    {"entity": {"reference": f"Patient/{OTHER_PATIENT}"}}]},
    ]


def binary(p: str) -> dict[str, Any]:
    """A Binary about patient ``p`` (its ``securityContext``), with inline content."""
    return {"resourceType": "Binary", "id": f"{p}-bin", "contentType": "text/plain",
            "securityContext": {"reference": f"Patient/{p}"},
            "data": base64.b64encode(binary_content(p)).decode()}


def _role(rid: str, practitioner: str, organization: str | None, code: str,
          system: str = ROLE) -> dict[str, Any]:
    role: dict[str, Any] = {"resourceType": "PractitionerRole", "id": rid, "active": True,
                            "practitioner": {"reference": f"Practitioner/{practitioner}"},
                            "code": [_concept(system, code)]}
    if organization:
        role["organization"] = {"reference": f"Organization/{organization}"}
    return role


EXPLAIN_ROLE = "privacy-officer"

REFERENCE_DATA: list[dict[str, Any]] = [
    {"resourceType": "Organization", "id": "org-clinic", "name": "Clinic"},
    {"resourceType": "Organization", "id": DENIED_ORGANIZATION, "name": "Other hospital"},
    *({"resourceType": "Practitioner", "id": p, "name": [{"family": p.capitalize()}]}
      for p in ("doc", "clerk", "outsider", "officer")),
    _role("role-doc", "doc", "org-clinic", "doctor"),          # may break the glass
    _role("role-clerk", "clerk", "org-clinic", "pharmacist"),  # may not
    _role("role-outsider", "outsider", DENIED_ORGANIZATION, "doctor"),
    _role("role-officer", "officer", None, EXPLAIN_ROLE, "urn:example:roles"),
]

RECORD: list[dict[str, Any]] = [
    *(r for p in SITUATIONS for r in patient_record(p)),
    {"resourceType": "Patient", "id": OTHER_PATIENT, "gender": "female",
     "name": [{"family": "FamilyBea", "given": [secret("Patient/bea")]}]},
    observation("bea-vital", OTHER_PATIENT, "vital-signs", "85354-9"),
    observation("bea-hiv", OTHER_PATIENT, "laboratory", HIV_TEST),
]

BINARIES = [binary(p) for p in SITUATIONS]


def _consent(patient: str, policy: str, provision: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Consent", "id": f"{patient}-consent", "status": "active",
            "scope": _concept("http://terminology.hl7.org/CodeSystem/consentscope",
                              "patient-privacy"),
            "category": [_concept(LOINC, "59284-0")],
            "patient": {"reference": f"Patient/{patient}"}, "dateTime": "2023-01-01",
            "policyRule": _concept(ACT_CODE, policy), "provision": provision}


CONSENTS = [
    _consent("den", "OPTOUT", {"actor": [{"role": _concept(PARTICIPATION, "IRCP"),
                                          "reference": {"reference":
                                                        f"Organization/{DENIED_ORGANIZATION}"}}]}),
    _consent("hiv", "OPTIN", {"provision": [{"type": "deny", "code": HIV_CODES}]}),
    _consent("psy", "OPTIN", {"provision": [{"type": "deny", "securityLabel": [PSY, MASK]}]}),
]


# -- who asks -------------------------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    """One kind of caller. ``patient``: the patient a patient token is limited to
    (``"self"``: the situation's patient); ``organization``: where a practitioner works;
    ``headers``: extra request headers (purpose of use, break-glass)."""

    name: str
    fhir_user: str | None
    scope: str
    kind: str = "user"
    patient: str | None = None
    organization: str | None = None
    observation_category: str | None = None
    break_glass: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def per_situation(self) -> bool:
        """Whether the token depends on the situation (the patient herself, her
        delegate)."""
        return self.patient == "self" or self.fhir_user in ("self", "delegate")

    def patient_of(self, situation: str) -> str | None:
        return situation if self.patient == "self" else self.patient

    def fhir_user_of(self, situation: str) -> str | None:
        if self.fhir_user == "self":
            return f"Patient/{situation}"
        if self.fhir_user == "delegate":
            return f"RelatedPerson/{situation}-rp"
        return self.fhir_user


BREAK_GLASS = {"X-Purpose-Of-Use": "ETREAT", "X-Break-Glass-Reason": "unconscious, bleeding"}

ACTORS = {a.name: a for a in [
    # the patient whose record it is (patient-context launch)
    Actor("self", "self", "patient/*.cruds", patient="self"),
    # a patient user, another patient (user/ scopes of a Patient are limited to her record)
    Actor("other", f"Patient/{OTHER_PATIENT}", "user/*.cruds", patient=OTHER_PATIENT),
    # two practitioners of one organization: a doctor (may break the glass), a pharmacist
    Actor("doc", "Practitioner/doc", "user/*.cruds", organization="org-clinic"),
    Actor("clerk", "Practitioner/clerk", "user/*.cruds", organization="org-clinic"),
    # a practitioner of the organization den's Consent denies
    Actor("outsider", "Practitioner/outsider", "user/*.cruds",
          organization=DENIED_ORGANIZATION),
    # a backend service with system scopes
    Actor("backend", None, "system/*.cruds", kind="backend"),
    # a narrow token: laboratory Observations only (SMART v2 query scope)
    Actor("narrow", "Practitioner/doc", f"user/Observation.rs?category={CATEGORY}|laboratory",
          organization="org-clinic", observation_category="laboratory"),
    # the doctor breaking the glass: Consents lifted (the positive control)
    Actor("doc-btg", "Practitioner/doc", "user/*.cruds", organization="org-clinic",
          break_glass=True, headers=BREAK_GLASS),
    # for $consent-explain: the patient's delegate, a privacy officer
    Actor("delegate", "delegate", "user/*.rs", patient="self"),
    Actor("officer", "Practitioner/officer", "user/*.rs"),
]}
