"""``$consent-explain`` for support staff, and a health-exchange consent artefact mapped
to a Consent and enforced (docs/consent.md's example)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consent import OPT_IN
from consent.artefacts import ArtefactError, consent_from_artefact
from fhir_server.storage import SystemWriter

from .conftest import set_consents, set_policy, token
from .data import HIV_CODES, actor, consent

ARTEFACT = json.loads((Path(__file__).parent.parent / "data" / "consent" /
                       "exchange-artefact.json").read_text())


def _parameter(parameters: dict, name: str) -> list[dict]:
    return [p for p in parameters["parameter"] if p["name"] == name]


def _parts(parameter: dict) -> dict:
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value"))
            for p in parameter["part"]}


SUPPORT_ROLE = {"resourceType": "PractitionerRole", "id": "pr-support", "active": True,
                "practitioner": {"reference": "Practitioner/support"},
                "code": [{"coding": [{"system": "urn:example:roles",
                                      "code": "privacy-officer"}]}]}


async def _support_desk(app) -> None:
    """A privacy officer: a PractitionerRole code the deployment lists for explaining."""
    writer = SystemWriter(app.state.services.storage.resources)
    await writer.update({"resourceType": "Practitioner", "id": "support"}, "support")
    await writer.update(SUPPORT_ROLE, "pr-support")
    set_policy(app, explain_roles=frozenset({"privacy-officer"}))


async def test_explain_names_the_provisions_behind_a_denial(consent_app, http):
    await _support_desk(consent_app)
    await set_consents(consent_app, [
        consent("c1", {"provision": [{"type": "deny", "code": HIV_CODES},
                                     {"type": "deny", "actor": [actor("Organization/clinic-a")],
                                      "securityLabel": [{"system": "http://terminology.hl7.org/"
                                                         "CodeSystem/v3-ActCode",
                                                         "code": "PSY"}]}]})])
    support = await token(consent_app, "Practitioner/support", scope="user/*.rs")
    response = await http.get(
        "/fhir/Patient/mum/$consent-explain?actor=Practitioner/doctor"
        "&resource=Observation/obs-hiv", headers=support)
    assert response.status_code == 200, response.text
    result = response.json()
    assert _parameter(result, "decision")[0]["valueCode"] == "deny"
    reasons = [_parts(p) for p in _parameter(result, "reason")]
    assert {"consent": {"reference": "Consent/c1"}, "provision": "provision.provision[0]",
            "effect": "deny", "text": "applies"} in reasons
    second = next(r for r in reasons if r.get("provision") == "provision.provision[1]")
    assert second["effect"] == "none" and "actor" in second["text"]
    resolved = [p for p in _parameter(result, "actor")[0]["part"]]
    assert {"name": "reference", "valueReference": {"reference": "Organization/hospital-b"}} \
        in resolved
    allowed = await http.get(
        "/fhir/Patient/mum/$consent-explain?actor=Practitioner/doctor"
        "&resource=Observation/obs-bp", headers=support)
    assert _parameter(allowed.json(), "decision")[0]["valueCode"] == "permit"


@pytest.mark.parametrize("query, user, status", [
    ("actor=Practitioner/doctor&resource=Observation/obs-kid", "Practitioner/support", 400),
    ("actor=Practitioner/doctor&resource=Observation/nope", "Practitioner/support", 404),
    ("actor=Practitioner/doctor", "Practitioner/support", 400),
    ("actor=Observation/obs-bp&resource=Observation/obs-bp", "Practitioner/support", 400),
    ("actor=Practitioner/doctor&resource=Observation/obs-bp&purpose=NOPE",
     "Practitioner/support", 400),
    ("actor=Practitioner/doctor&resource=Observation/obs-bp", "Practitioner/outsider", 403),
    ("actor=Practitioner/doctor&resource=Observation/nope", "Practitioner/outsider", 403),
    ("actor=Practitioner/doctor&resource=Observation/obs-bp", "Patient/mum", 200),
    ("actor=Practitioner/doctor&resource=Observation/obs-bp", "Patient/other", 403),
])
async def test_explain_checks_its_input_and_caller(consent_app, http, query, user, status):
    """Only the patient, a delegate or a privacy officer may ask; anyone else gets 403
    before anything is looked up (so no answer tells whether a resource exists)."""
    await _support_desk(consent_app)
    caller = await token(consent_app, user, scope="user/*.rs")
    response = await http.get(f"/fhir/Patient/mum/$consent-explain?{query}", headers=caller)
    assert response.status_code == status, response.text
    assert response.json()["resourceType"] == ("Parameters" if status == 200
                                               else "OperationOutcome")


def test_artefact_maps_to_a_consent(consent_app):
    resource = consent_from_artefact(ARTEFACT, patient="mum",
                                     information_user="Organization/hospital-b",
                                     care_contexts={"visit-2023-03-01": "Encounter/enc-1"})
    provision = resource["provision"]
    assert provision["period"] == {"start": "2023-06-01T08:00:00Z",
                                   "end": "2099-12-31T00:00:00Z"}
    assert provision["purpose"] == [{"system": "http://terminology.hl7.org/CodeSystem/"
                                               "v3-ActReason", "code": "CAREMGT"}]
    assert {c["code"] for c in provision["class"]} == {
        "MedicationRequest", "Medication", "DiagnosticReport", "Observation", "ImagingStudy",
        "Media"}
    assert provision["dataPeriod"] == {"start": "2023-01-01T00:00:00Z",
                                       "end": "2023-12-31T23:59:59Z"}
    assert provision["data"] == [{"meaning": "dependents",
                                  "reference": {"reference": "Encounter/enc-1"}}]
    validator = consent_app.state.services.validator
    assert not [i for i in validator.validate({**resource, "id": "x"})
                if i.severity == "error"]
    with pytest.raises(ArtefactError):
        consent_from_artefact(ARTEFACT, patient="mum", information_user="Organization/b")
    broken = {"consentDetail": {**ARTEFACT["consentDetail"], "hiTypes": ["Horoscope"]}}
    with pytest.raises(ArtefactError):
        consent_from_artefact(broken, patient="mum", information_user="Organization/b",
                              care_contexts={"visit-2023-03-01": "Encounter/enc-1"})


async def _visible(http, headers: dict) -> set[str]:
    found = set()
    for reference in ("Encounter/enc-1", "Observation/obs-bp", "Observation/obs-hiv",
                      "Observation/obs-weight", "MedicationRequest/mr-1", "Condition/cond-preg",
                      "Patient/mum"):
        response = await http.get(f"/fhir/{reference}", headers=headers)
        assert response.status_code in (200, 404)
        if response.status_code == 200:
            found.add(reference)
    return found


async def test_artefact_grant_is_enforced_until_it_expires(consent_app, http):
    set_policy(consent_app, default=OPT_IN)
    resource = consent_from_artefact(ARTEFACT, patient="mum",
                                     information_user="Organization/hospital-b",
                                     care_contexts={"visit-2023-03-01": "Encounter/enc-1"})
    await set_consents(consent_app, [{**resource, "id": "artefact"}])
    doctor = await token(consent_app, "Practitioner/doctor")
    care = {**doctor, "X-Purpose-Of-Use": "CAREMGT"}
    assert await _visible(http, care) == {"Observation/obs-bp", "MedicationRequest/mr-1"}
    assert await _visible(http, doctor) == set()
    midwife = {**await token(consent_app, "Practitioner/midwife"), "X-Purpose-Of-Use": "CAREMGT"}
    assert await _visible(http, midwife) == set()
    expired = json.loads(json.dumps(ARTEFACT))
    expired["consentDetail"]["permission"]["dataEraseAt"] = "2024-01-01T00:00:00Z"
    resource = consent_from_artefact(expired, patient="mum",
                                     information_user="Organization/hospital-b",
                                     care_contexts={"visit-2023-03-01": "Encounter/enc-1"})
    await set_consents(consent_app, [{**resource, "id": "artefact"}])
    assert await _visible(http, care) == set()
