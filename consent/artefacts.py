"""Health-exchange consent artefacts as R4 Consent resources.

National health-information exchanges issue consent artefacts: a patient's time-bound,
purpose-bound grant of certain types of health information, held by one provider (the
information provider), to another (the information user), expiring on a given date. The
artefact modelled here follows the shape of India's ABDM consent artefact (``purpose``,
``hip``, ``hiu``, ``hiTypes``, ``permission.dateRange``, ``permission.dataEraseAt``,
``careContexts``); see ``docs/consent.md`` for the mapping table.

The resulting Consent permits, and only permits: under an opt-in deployment policy it is
the grant itself; under opt-out it adds nothing to what is already shared.
"""

from __future__ import annotations

from typing import Any

from .codes import ACT_CODE, ACT_REASON, CONSENT_ACTION, CONSENT_SCOPE, PARTICIPATION_TYPE

__all__ = ["consent_from_artefact", "INFORMATION_TYPES", "ArtefactError"]

RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"
ARTEFACT_SYSTEM = "urn:health-exchange:consent-artefact"

INFORMATION_TYPES: dict[str, tuple[str, ...]] = {
    "Prescription": ("MedicationRequest", "Medication"),
    "DiagnosticReport": ("DiagnosticReport", "Observation", "ImagingStudy", "Media"),
    "OPConsultation": ("Encounter", "Condition", "Observation", "Procedure",
                       "AllergyIntolerance", "ServiceRequest", "MedicationRequest"),
    "DischargeSummary": ("Encounter", "Condition", "Procedure", "MedicationRequest",
                         "CarePlan", "Observation"),
    "ImmunizationRecord": ("Immunization", "ImmunizationRecommendation"),
    "WellnessRecord": ("Observation",),
    "HealthDocumentRecord": ("DocumentReference", "Binary"),
}
"""Information types of the artefact (``hiTypes``) -> the R4 resource types they cover."""


class ArtefactError(ValueError):
    """An artefact that cannot become a Consent (missing or unknown fields)."""


def _required(artefact: dict[str, Any], *path: str) -> Any:
    node: Any = artefact
    for step in path:
        if not isinstance(node, dict) or node.get(step) in (None, "", []):
            raise ArtefactError(f"the artefact has no {'.'.join(path)}")
        node = node[step]
    return node


def _classes(types: list[Any]) -> list[dict[str, str]]:
    unknown = [t for t in types if t not in INFORMATION_TYPES]
    if unknown:
        raise ArtefactError(f"unknown information type(s): {', '.join(map(str, unknown))}")
    resource_types = dict.fromkeys(r for t in types for r in INFORMATION_TYPES[t])
    return [{"system": RESOURCE_TYPES, "code": r} for r in resource_types]


def consent_from_artefact(artefact: dict[str, Any], *, patient: str, information_user: str,
                          care_contexts: dict[str, str] | None = None) -> dict[str, Any]:
    """The Consent for an artefact.

    ``patient``: the server's Patient id of the artefact's patient; ``information_user``:
    the reference (``Organization/<id>``) of the artefact's ``hiu``; ``care_contexts``:
    the artefact's care context references -> the server's Encounter references.
    """
    grant = _required(artefact, "consentDetail")
    purpose = _required(grant, "purpose", "code")
    permission = _required(grant, "permission")
    expiry = _required(permission, "dataEraseAt")
    provision: dict[str, Any] = {
        "period": {"start": _required(grant, "createdAt"), "end": expiry},
        "actor": [{"role": {"coding": [{"system": PARTICIPATION_TYPE, "code": "IRCP"}]},
                   "reference": {"reference": information_user}}],
        "action": [{"coding": [{"system": CONSENT_ACTION, "code": "access"}]}],
        "purpose": [{"system": ACT_REASON, "code": purpose}],
        "class": _classes(_required(grant, "hiTypes")),
    }
    date_range = permission.get("dateRange") or {}
    if date_range.get("from") or date_range.get("to"):
        provision["dataPeriod"] = {k: v for k, v in (("start", date_range.get("from")),
                                                     ("end", date_range.get("to"))) if v}
    contexts = [c.get("careContextReference") for c in grant.get("careContexts") or []]
    if contexts:
        mapping = care_contexts or {}
        missing = [c for c in contexts if c not in mapping]
        if missing:
            raise ArtefactError(f"care context(s) without an Encounter: {', '.join(missing)}")
        provision["data"] = [{"meaning": "dependents", "reference": {"reference": mapping[c]}}
                             for c in contexts]
    consent_id = _required(grant, "consentId")
    return {
        "resourceType": "Consent",
        "identifier": [{"system": ARTEFACT_SYSTEM, "value": consent_id}],
        "status": "active",
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{patient}"},
        "dateTime": grant["createdAt"],
        "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTIN"}]},
        "provision": provision,
    }
